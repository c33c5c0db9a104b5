import type { ReactNode } from 'react';
import type { HostFormSetting } from '../../session/host-form';

/** Renders a declared setting's field with this hint (HostFormPage's `setting`). */
type SettingField = (name: HostFormSetting, hint?: string | null) => ReactNode;

/** What each privacy field does, in the words of what it protects (the declarations' help is the simulator's). */
export const PRIVACY_HINT = {
  secagg: 'the aggregating tab learns only the sum of the updates, never one participant’s update',
  dpClip: 'every client clips its own update to this L2 norm before sending (empty: no private aggregation)',
  dpNoise: 'DP noise: the models reveal little about any one participant; the dashboard shows the epsilon spent per round (0: none). The round’s mean carries noise of std noise × clip / K on every weight (K: clients in the round), so a model learns under DP only with many clients per round (about a hundred or more); with a few tabs it shows what the privacy costs',
  dpDelta: 'the δ of the (ε, δ) guarantee shown',
  dpBudget: 'the run stops before a round would take ε past this (empty: no budget)',
} as const;

/** The Privacy section of the host form: private aggregation is on once a clip norm is set. */
export function PrivacyFieldset({ setting, active }: { setting: SettingField; active: boolean }) {
  return (
    <fieldset className="privacy-fields">
      <legend>Privacy</legend>
      <p className="note" id="privacy-note">
        {active
          ? 'Private aggregation is on: each client clips its own update, the aggregator screens none and measures no decomposition (it sees no local model). FedAvg, FedProx or SCAFFOLD, in synchronous rounds.'
          : 'Off. Set a clip norm to turn private aggregation on.'}
      </p>
      {setting('dpClip', PRIVACY_HINT.dpClip)}
      {setting('secagg', PRIVACY_HINT.secagg)}
      {setting('dpNoise', PRIVACY_HINT.dpNoise)}
      {setting('dpDelta', PRIVACY_HINT.dpDelta)}
      {setting('dpBudget', PRIVACY_HINT.dpBudget)}
    </fieldset>
  );
}
