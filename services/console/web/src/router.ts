// The console's pages by hash route (`#/case/<id>`, `#/enterprise/<id>`, `#/reg/<page>`, `#/queue?…`), so
// links in e-mails, the overview's figures and bookmarks open the page they name. Pages load when first
// opened. A route's `roles` limits it to those roles: anyone else is sent to their start page.
import { createRouter, createWebHashHistory, type RouteLocationNormalized } from 'vue-router';
import { applyLinkFilter } from './pages/queue-filter';
import { sessionReady, user, type User } from './session';

declare module 'vue-router' {
  interface RouteMeta {
    /** Open without a session (an invitation link). */
    public?: boolean;
    /** Only these roles see the page. */
    roles?: string[];
  }
}

const withUser = () => ({ user: user.value });
/** The bureau's own pages: every role but an enterprise's users, whose pages are the portal and the data. */
const bureau = { roles: ['admin', 'city-supervisor', 'district-officer', 'viewer'] };

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'queue', component: () => import('./pages/QueuePage.vue'), meta: bureau },
    // A filtered queue link: the filter is applied and the queue opens at `#/`.
    {
      path: '/queue',
      redirect: (to) => {
        applyLinkFilter(to.query);
        return { path: '/', query: {} };
      },
    },
    {
      path: '/case/:id',
      name: 'case',
      component: () => import('./pages/CaseDetailPage.vue'),
      props: (r) => ({ id: String(r.params.id) }),
      meta: bureau,
    },
    {
      path: '/registry',
      name: 'registry',
      component: () => import('./pages/RegistryPage.vue'),
      meta: bureau,
    },
    {
      path: '/enterprise/:id',
      name: 'enterprise',
      component: () => import('./pages/EnterprisePage.vue'),
      props: (r) => ({ id: String(r.params.id) }),
      meta: bureau,
    },
    { path: '/overview', component: () => import('./Overview.vue') },
    // The overview's reminders figures: the list behind them (as open as the overview, scoped by the server).
    {
      path: '/reminders',
      component: () => import('./Reminders.vue'),
      props: (r) => ({ route: r.fullPath }),
    },
    { path: '/data', component: () => import('./DataBrowser.vue') },
    { path: '/transmission', component: () => import('./Transmission.vue') },
    { path: '/loads', component: () => import('./Loads.vue') },
    {
      path: '/compliance',
      component: () => import('./Compliance.vue'),
      props: (r) => ({ route: r.fullPath }),
      meta: bureau,
    },
    { path: '/approvals', component: () => import('./Approvals.vue'), props: withUser, meta: bureau },
    { path: '/submissions', component: () => import('./Submissions.vue'), props: withUser, meta: bureau },
    {
      path: '/reg/:page',
      component: () => import('./Regulation.vue'),
      props: (r) => ({ page: String(r.params.page), user: user.value }),
      meta: bureau,
    },
    {
      path: '/users',
      component: () => import('./Users.vue'),
      meta: { roles: ['admin'] },
    },
    {
      path: '/portal',
      component: () => import('./Portal.vue'),
      props: withUser,
      meta: { roles: ['enterprise'] },
    },
    {
      path: '/invite/:token',
      component: () => import('./PortalInvite.vue'),
      props: (r) => ({ token: String(r.params.token) }),
      meta: { public: true },
    },
    { path: '/:unknown(.*)*', redirect: '/' },
  ],
});

/** Where `u` starts: an enterprise user on its portal, everyone else on the queue. */
export function homeOf(u: User): string {
  return u.role === 'enterprise' ? '/portal' : '/';
}

/** Where `u` may not be on `to`: the page to go to instead (none: `to` is theirs). */
export function redirectFor(to: RouteLocationNormalized, u: User | null): string | null {
  if (!u || to.meta.public || !to.meta.roles || to.meta.roles.includes(u.role)) return null;
  return homeOf(u);
}

router.beforeEach(async (to) => {
  // The session is known before a page decides who may see it; without one the shell shows the login form.
  await sessionReady;
  return redirectFor(to, user.value) ?? true;
});
