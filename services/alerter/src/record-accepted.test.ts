import { StoreError } from '@offsite/store';
import { recordAccepted } from './record-accepted.js';

const quiet = () => {};
const log = { info: quiet, warn: quiet, error: quiet, debug: quiet, child: () => log } as never;
const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), { name: 'Error' });

describe('recordAccepted', () => {
  it('waits out a lost connection, doubling the wait, and records once it is back', async () => {
    const waits: number[] = [];
    let calls = 0;
    await recordAccepted(
      async () => {
        calls++;
        if (calls <= 3)
          throw calls === 2 ? Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) : lost();
      },
      { log, notificationId: 'n1', sleep: async (ms) => void waits.push(ms), maxDelayMs: 800 },
    );
    expect(calls).toBe(4);
    expect(waits).toEqual([250, 500, 800]);
  });

  it('throws at once on an error that retrying cannot fix (a constraint, a bug)', async () => {
    let calls = 0;
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(
      recordAccepted(
        async () => {
          calls++;
          throw unique;
        },
        { log, notificationId: 'n2', sleep: async () => {} },
      ),
    ).rejects.toBe(unique);
    expect(calls).toBe(1);
    const bug = new StoreError('QUERY_FAILED', 'bad', { retryable: false });
    await expect(
      recordAccepted(
        async () => {
          throw bug;
        },
        { log, notificationId: 'n3', sleep: async () => {} },
      ),
    ).rejects.toBe(bug);
  });

  it('gives up after its bound with the last error (the job then fails as before)', async () => {
    let calls = 0;
    const err = new StoreError('QUERY_FAILED', 'down', { retryable: true });
    await expect(
      recordAccepted(
        async () => {
          calls++;
          throw err;
        },
        { log, notificationId: 'n4', giveUpAfterMs: 0, sleep: async () => {} },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });
});
