import { describe, expect, it } from 'vitest';
import { planImageFolder, stripCommonRoot } from './image-folder';

const files = (paths: string[]) => paths.map((path) => ({ path, file: path }));

describe('planImageFolder', () => {
  it('labels each image by its class folder, classes in natural order', () => {
    const plan = planImageFolder(files(['10/a.png', '2/b.PNG', '2/c.jpg', 'cat/d.webp']));
    expect(plan.classNames).toEqual(['2', '10', 'cat']);
    expect(plan.entries.map((e) => [e.path, e.label])).toEqual([
      ['10/a.png', 1],
      ['2/b.PNG', 0],
      ['2/c.jpg', 0],
      ['cat/d.webp', 2],
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('finds the class folders below a shared top folder, and keeps deeper folders in their class', () => {
    const plan = planImageFolder(files(['mnist/training/0/x.png', 'mnist/training/1/y.png', 'mnist/training/1/more/z.png']));
    expect(plan.classNames).toEqual(['0', '1']);
    expect(plan.entries.map((e) => e.label)).toEqual([0, 1, 1]);
  });

  it('reports files outside a class folder and non-images, and silently skips hidden and OS files', () => {
    const plan = planImageFolder(files(['a/1.png', 'b/2.png', 'readme.md', 'loose.png', 'a/.DS_Store', 'b/Thumbs.db', '.git/x.png']));
    expect(plan.entries).toHaveLength(2);
    expect(plan.problems).toEqual([
      expect.stringMatching(/^readme\.md: skipped, not an image file \(\.md;/),
      expect.stringMatching(/^loose\.png: skipped, not inside a class folder/),
    ]);
  });

  it('maps folders onto a fixed class list and reports folders outside it', () => {
    const plan = planImageFolder(files(['dog/1.png', 'cat/2.png', 'bird/3.png']), { classNames: ['cat', 'dog'] });
    expect(plan.entries.map((e) => [e.path, e.label])).toEqual([
      ['dog/1.png', 1],
      ['cat/2.png', 0],
    ]);
    expect(plan.problems).toEqual([expect.stringMatching(/^folder "bird": skipped, not one of the session's classes \(cat, dog\)/)]);
  });

  it('says what a usable folder looks like when nothing loads', () => {
    const plan = planImageFolder(files(['notes.txt']));
    expect(plan.entries).toEqual([]);
    expect(plan.problems.at(-1)).toMatch(/no images found: pick a folder that holds one subfolder per class/);
  });
});

describe('stripCommonRoot', () => {
  it('stops stripping when class folders would disappear', () => {
    expect(stripCommonRoot([['r', 'a', 'x.png'], ['r', 'b', 'y.png']])).toEqual([['a', 'x.png'], ['b', 'y.png']]);
    expect(stripCommonRoot([['a', 'x.png'], ['a', 'y.png']])).toEqual([['a', 'x.png'], ['a', 'y.png']]);
  });
});
