/**
 * The three ways a user hands the page a folder: the directory picker (where available), an
 * <input type="file" webkitdirectory>, and drag-and-drop of a folder. All end as LocalFile lists
 * with paths relative to the picked folder.
 */

export interface LocalFile {
  /** Path relative to the picked folder, '/'-separated (no leading folder name). */
  path: string;
  file: File;
}

interface DirectoryPickerWindow {
  showDirectoryPicker?: (opts?: { mode?: 'read' | 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;
}

type IterableDirectoryHandle = FileSystemDirectoryHandle & {
  values(): AsyncIterable<FileSystemHandle>;
};

export function hasDirectoryPicker(): boolean {
  return typeof (globalThis as DirectoryPickerWindow).showDirectoryPicker === 'function';
}

/** Lists every file below a directory handle, depth first. */
export async function filesFromDirectoryHandle(dir: FileSystemDirectoryHandle, prefix = ''): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for await (const handle of (dir as IterableDirectoryHandle).values()) {
    const path = prefix ? `${prefix}/${handle.name}` : handle.name;
    if (handle.kind === 'file') out.push({ path, file: await (handle as FileSystemFileHandle).getFile() });
    else out.push(...(await filesFromDirectoryHandle(handle as FileSystemDirectoryHandle, path)));
  }
  return out;
}

/**
 * Opens the browser's directory picker. Resolves null when the user cancels; throws when the browser has no
 * picker (use an <input webkitdirectory> then).
 */
export async function pickDirectory(): Promise<LocalFile[] | null> {
  const picker = (globalThis as DirectoryPickerWindow).showDirectoryPicker;
  if (!picker) throw new Error('this browser has no directory picker; use the folder upload field or drag a folder in');
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await picker({ mode: 'read', id: 'fedtab-data' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') return null;
    throw err;
  }
  return filesFromDirectoryHandle(dir);
}

/** Files from <input type="file" webkitdirectory>: their webkitRelativePath starts with the picked folder's name. */
export function filesFromInput(files: FileList | File[]): LocalFile[] {
  return Array.from(files, (file) => {
    const rel = file.webkitRelativePath || file.name;
    const slash = rel.indexOf('/');
    return { path: file.webkitRelativePath && slash >= 0 ? rel.slice(slash + 1) : rel, file };
  });
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walkEntry(entry: FileSystemEntry, prefix: string, out: LocalFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call; call until it returns none.
  for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
    for (const child of batch) await walkEntry(child, path, out);
  }
}

/**
 * Files from a drop. A single dropped folder becomes the root (paths start below it); several dropped items
 * keep their names as the first path segment (so dropping the class folders themselves also works).
 * Must be called synchronously inside the drop handler: the entries are only valid during the event.
 */
export function filesFromDrop(data: DataTransfer): Promise<LocalFile[]> {
  const entries = Array.from(data.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  return (async () => {
    const out: LocalFile[] = [];
    if (entries.length === 1 && entries[0].isDirectory) {
      const reader = (entries[0] as FileSystemDirectoryEntry).createReader();
      for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
        for (const child of batch) await walkEntry(child, '', out);
      }
      return out;
    }
    for (const e of entries) await walkEntry(e, '', out);
    return out;
  })();
}
