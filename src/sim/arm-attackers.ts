import type { LocalTrainer } from '../fl/local-trainer';
import { attackProblem, AttackingTrainer, chooseAttackers, type AttackConfig } from './attacks';
import { keepMostFrequentClass, type ClientShard } from './client-shards';

/** The simulator's clients under an attack: the attackers' shards and how to wrap each client's trainer. */
export interface ArmedClients {
  /**
   * The shards, the attackers' carrying their data poisoning (materializeShard applies it); a pose-minority attacker's
   * cut to its most frequent class, so what it trains on, its sample count and its declared histogram all agree.
   */
  shards: ClientShard[];
  attackers: Set<number>;
  /** Client k's trainer: the honest one, or an attacking wrapper around it. */
  trainer(k: number, honest: LocalTrainer): LocalTrainer;
}

/**
 * Arms the attackers of `attack` (chosen by the seed) among the shards; every simulation mode uses this. Throws when
 * the attacks cannot run with this strategy and data (attackProblem).
 */
export function armAttackers(shards: readonly ClientShard[], attack: AttackConfig | null, run: { seed: number; strategy: string; numClasses: number; labels: Int32Array }): ArmedClients {
  const problem = attack && attackProblem(attack.attacks, run.strategy, run.numClasses);
  if (problem) throw new Error(problem);
  const seed = run.seed;
  const attackers = attack ? chooseAttackers(shards.length, attack.attackers, seed) : new Set<number>();
  const poses = attack?.attacks.some((a) => a.kind === 'pose-minority') ?? false;
  return {
    shards: shards.map((s) => (attack && attackers.has(s.index) ? { ...(poses ? keepMostFrequentClass(s, run.labels) : s), poison: attack.attacks } : s)),
    attackers,
    trainer: (k, honest) => (attack && attackers.has(k) ? new AttackingTrainer(honest, attack.attacks, seed) : honest),
  };
}
