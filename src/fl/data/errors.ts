/**
 * Errors for data files the user supplies. The message always names the file, and the line and
 * column where the format has them, so the UI can show it unchanged.
 */

export interface DataLocation {
  /** 1-based line number in a text file. */
  line?: number;
  /** 1-based column number in a text file. */
  column?: number;
  /** Header name of that column, when known. */
  columnName?: string;
}

/** The content of a data file is not what its format requires. */
export class DataFormatError extends Error {
  readonly fileName: string;
  readonly problem: string;
  readonly location: DataLocation;

  constructor(fileName: string, problem: string, location: DataLocation = {}) {
    super(`${fileName}${formatLocation(location)}: ${problem}`);
    this.name = 'DataFormatError';
    this.fileName = fileName;
    this.problem = problem;
    this.location = location;
  }
}

export function isDataFormatError(err: unknown): err is DataFormatError {
  return err instanceof DataFormatError;
}

function formatLocation({ line, column, columnName }: DataLocation): string {
  let out = '';
  if (line !== undefined) out += `, line ${line}`;
  if (column !== undefined) out += `, column ${column}`;
  if (columnName !== undefined) out += ` ("${columnName}")`;
  return out;
}

/**
 * Checks labels are non-negative integer class indices and returns the class count (max + 1).
 * Shared by every parser so all formats reject bad labels the same way.
 */
export function classCountFromLabels(labels: Int32Array, fileName: string, what = 'labels'): number {
  if (labels.length === 0) throw new DataFormatError(fileName, `${what}: no samples`);
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v < 0) throw new DataFormatError(fileName, `${what}: label ${v} at sample ${i} is negative`);
    if (v > max) max = v;
  }
  return max + 1;
}
