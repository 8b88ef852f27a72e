import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, loadConfig } from '../src';

const Schema = Type.Composite([
  CommonConfig,
  Type.Object({ PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }) }),
]);

describe('loadConfig', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig(Schema, { PORT: '9000' });
    expect(config.PORT).toBe(9000);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('names every variable at fault', () => {
    expect(() => loadConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    try {
      loadConfig(Schema, { PORT: '70000', INTERNAL_AUTH_SECRET: 'short' });
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT/);
      expect((error as Error).message).toMatch(/INTERNAL_AUTH_SECRET/);
    }
    expect.assertions(3);
  });
});
