/**
 * An alerter policy file's body for tests: one entry that mails enterprises' environment managers,
 * `rounds` rounds `interval` apart, with no inhibition or resolution notice.
 */
export function managerEmailPolicy(o: { rounds: number; interval: string }) {
  return {
    bureau: { zh: '青澜市生态环境局', en: 'Qinglan Ecology and Environment Bureau' },
    groupWait: '500ms',
    ackTtl: '1d',
    inhibitedByOffline: [],
    entries: [
      {
        name: 'default',
        match: {},
        enterpriseRoles: ['env-manager'],
        districtOfficers: false,
        citySupervisors: false,
        channels: ['email'],
        repeat: { interval: o.interval, maxCount: o.rounds },
        resolutionNotice: false,
        urgent: false,
      },
    ],
  };
}
