/** Short summary of a file selection while it is imported: "3 files (data.csv, b.npz, c.npz)". */
export function describeSelection(files: readonly { name: string }[], shown = 3): string {
  if (files.length === 0) return 'no files';
  const names = files.slice(0, shown).map((f) => f.name);
  const more = files.length > shown ? `, and ${files.length - shown} more` : '';
  return `${files.length} file${files.length === 1 ? '' : 's'} (${names.join(', ')}${more})`;
}
