import type { LocalTrainer } from '../fl/local-trainer';
import { attackProblem, AttackingTrainer, chooseAttackers, type AttackConfig } from './attacks';
import type { ClientShard } from './client-shards';

/** The simulator's clients under an attack: the attackers' shards and how to wrap each client's trainer. */
export interface ArmedClients {
  /** The shards, the attackers' carrying their data poisoning (materializeShard applies it). */
  shards: ClientShard[];
  attackers: Set<number>;
  /** Client k's trainer: the honest one, or an attacking wrapper around it. */
  trainer(k: number, honest: LocalTrainer): LocalTrainer;
}

/**
 * Arms the attackers of `attack` (chosen by the seed) among the shards; every simulation mode uses this. Throws when
 * the attacks cannot run with this strategy and data (attackProblem).
 */
export function armAttackers(shards: readonly ClientShard[], attack: AttackConfig | null, run: { seed: number; strategy: string; numClasses: number }): ArmedClients {
  const problem = attack && attackProblem(attack.attacks, run.strategy, run.numClasses);
  if (problem) throw new Error(problem);
  const seed = run.seed;
  const attackers = attack ? chooseAttackers(shards.length, attack.attackers, seed) : new Set<number>();
  return {
    shards: shards.map((s) => (attack && attackers.has(s.index) ? { ...s, poison: attack.attacks } : s)),
    attackers,
    trainer: (k, honest) => (attack && attackers.has(k) ? new AttackingTrainer(honest, attack.attacks, seed) : honest),
  };
}
