import { isOffsiteError } from './errors.js';
import { redisConnectionOptions } from './redis-url.js';

describe('redisConnectionOptions', () => {
  it('reads host, default port and no credentials', () => {
    expect(redisConnectionOptions('redis://127.0.0.1')).toEqual({
      host: '127.0.0.1',
      port: 6379,
      maxRetriesPerRequest: null,
    });
  });

  it('reads port, percent-encoded credentials and the database number', () => {
    expect(redisConnectionOptions('redis://alerter:p%40ss%2Fword@redis.local:26379/3')).toEqual({
      host: 'redis.local',
      port: 26379,
      username: 'alerter',
      password: 'p@ss/word',
      db: 3,
      maxRetriesPerRequest: null,
    });
  });

  it.each(['not a url', 'http://127.0.0.1:6379', 'redis://127.0.0.1/abc'])('refuses %s', (url) => {
    let error: unknown;
    try {
      redisConnectionOptions(url);
    } catch (e) {
      error = e;
    }
    expect(isOffsiteError(error) && error.code).toBe('REDIS_URL_INVALID');
  });
});
