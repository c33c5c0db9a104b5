/**
 * "Intertwined" heterogeneity: the slow devices are the ones holding particular classes. The last
 * round(numClasses * slowShare) classes go only to the designated slow clients, every other class only to the others;
 * within each group the data is split by the usual partition spec.
 */
import { partitionIndices, type Partition, type PartitionSpec } from '../fl/data/partition';

export function slowClassesFor(numClasses: number, slowClients: number, clients: number): number[] {
  if (slowClients === 0 || slowClients === clients) return [];
  const count = Math.min(numClasses - 1, Math.max(1, Math.round((numClasses * slowClients) / clients)));
  return Array.from({ length: count }, (_, i) => numClasses - count + i);
}

export function intertwinedPartition(
  labels: ArrayLike<number>,
  numClasses: number,
  clients: number,
  slowClients: readonly number[],
  spec: PartitionSpec,
  seed: number,
): { partition: Partition; slowClasses: number[] } {
  const slowClasses = slowClassesFor(numClasses, slowClients.length, clients);
  if (slowClasses.length === 0) throw new RangeError('intertwined: needs some slow and some fast clients');
  const isSlowClass = new Set(slowClasses);
  const slowSet = new Set(slowClients);
  const fastClients = Array.from({ length: clients }, (_, k) => k).filter((k) => !slowSet.has(k));
  const groups: Array<{ members: number[]; indices: number[] }> = [
    { members: [...slowClients], indices: [] },
    { members: fastClients, indices: [] },
  ];
  for (let i = 0; i < labels.length; i++) groups[isSlowClass.has(labels[i]) ? 0 : 1].indices.push(i);
  const out: number[][] = Array.from({ length: clients }, () => []);
  groups.forEach((g, gi) => {
    const sub = Int32Array.from(g.indices, (i) => labels[i]);
    const part = partitionIndices(sub, numClasses, g.members.length, spec, seed * 13 + gi);
    part.clients.forEach((local, m) => local.forEach((j) => out[g.members[m]].push(g.indices[j])));
  });
  const histograms = out.map((idx) => {
    const h = new Array<number>(numClasses).fill(0);
    idx.forEach((i) => h[labels[i]]++);
    return h;
  });
  return { partition: { clients: out.map((idx) => Int32Array.from(idx.sort((a, b) => a - b))), histograms }, slowClasses };
}
