import { promqlReferences } from './promql';

describe('the PromQL reference extractor', () => {
  it('finds metric names through functions, aggregations, ranges, matchers and Grafana variables', () => {
    const refs = promqlReferences(
      'histogram_quantile(0.99, sum by (le, route) (rate(fake_read_seconds_bucket{service="query", route=~"/v1/.*"}[$__rate_interval])))' +
        ' / on (route) group_left sum without (instance) (increase(fake_reads_total[5m] offset 1h))' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a template
        ' > bool 0.5 or {__name__="fake_gauge", endpoint!="primary"} and max_over_time(fake_lag{topic="${topic}"}[1h:1m])',
    );
    expect(refs.selectors.map((s) => s.metric)).toEqual([
      'fake_read_seconds_bucket',
      'fake_reads_total',
      'fake_gauge',
      'fake_lag',
    ]);
    expect(refs.selectors[0]?.matchers).toEqual([
      { label: 'service', op: '=', value: 'query' },
      { label: 'route', op: '=~', value: '/v1/.*' },
    ]);
    expect(refs.selectors[2]?.matchers).toEqual([{ label: 'endpoint', op: '!=', value: 'primary' }]);
    expect(refs.groupingLabels).toEqual(['le', 'route', 'route', 'instance']);
  });

  it('refuses what it cannot read rather than pass it', () => {
    expect(() => promqlReferences('{__name__=~"writer_.*"}')).toThrow(/literal metric name/);
    expect(() => promqlReferences('rate(x[5m]) ;')).toThrow(/unexpected ";"/);
    expect(() => promqlReferences('x{service=query}')).toThrow(/quoted label value/);
  });
});
