/** Helpers for integration suites: every test owns its topics, groups, tenants and ports. */
export * from './infra';
export * from './metrics';
export * from './processes';
export * from './store';
export * from './system';
