import { describe, expect, it } from 'vitest';
import { secureAggregationProblem } from './secure-aggregation-support';

describe('secure aggregation on this page', () => {
  it('is possible where WebCrypto is, and says why not on a plain-http LAN page, for the host and for a joiner', () => {
    expect(secureAggregationProblem({ crypto: { subtle: {} }, location: { protocol: 'https:', host: '10.0.0.2:5173' } }, 'client')).toBeNull();
    const page = { crypto: {}, location: { protocol: 'http:', host: '10.0.0.2:5173' } };
    expect(secureAggregationProblem(page, 'client')).toMatch(/^This session uses secure aggregation, so this tab cannot take part: .*http:\/\/10\.0\.0\.2:5173 is not one\. Open the https address/);
    expect(secureAggregationProblem(page, 'host')).toMatch(/^Secure aggregation is not possible on this page: .*npm run start:https.*or turn secure aggregation off\.$/);
  });
});
