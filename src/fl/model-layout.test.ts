import { describe, expect, it } from 'vitest';
import { modelLayout } from './model-layout';
import { buildModel, cnnSpec, getLayout, mlpSpec, tabularSpec, type ModelSpec } from './models';

describe('modelLayout', () => {
  const specs: ModelSpec[] = [
    mlpSpec([28, 28, 1], 10),
    mlpSpec([28, 28, 1], 10, [128, 64]),
    mlpSpec([12], 3, []),
    cnnSpec([28, 28, 1], 10),
    cnnSpec([32, 32, 3], 7),
    { kind: 'cnn', inputShape: [15, 9, 2], filters: [4, 5], dense: 6, numClasses: 2 },
    tabularSpec(20, 4),
    tabularSpec(5, 2, [3]),
  ];
  for (const spec of specs) {
    it(`names and shapes the weights of ${JSON.stringify(spec)} as buildModel does`, () => {
      const model = buildModel(spec, 1);
      expect(modelLayout(spec)).toEqual(getLayout(model));
      model.dispose();
    });
  }
});
