// The review queue's filter. It lives outside the page, so it is still set when a supervisor comes back
// from a case; a link with a filter (`#/queue?district=…&rule=…&severity=…&state=…&open=true&overdue=true`,
// the overview's figures) replaces it and opens the queue.
import { reactive, ref } from 'vue';
import type { LocationQuery } from 'vue-router';

export const LINK_FILTERS = ['district', 'rule', 'severity', 'state', 'open', 'overdue'] as const;

export const queueFilter = reactive({
  district: '',
  rule: '',
  severity: '',
  state: '',
  open: '',
  overdue: '',
  q: '',
  /** The column the server sorts by (one of the API's sort keys) and its direction. */
  sort: 'openedAt',
  order: 'desc' as 'asc' | 'desc',
  page: 1,
  pageSize: 20,
});

/** Counts the links applied, so a queue already open reloads with the new filter. */
export const linksApplied = ref(0);

/** Sets the filter from a link's query: the filters it names, the others and the search cleared. */
export function applyLinkFilter(query: LocationQuery): void {
  for (const k of LINK_FILTERS) {
    const v = query[k];
    queueFilter[k] = typeof v === 'string' ? v : '';
  }
  queueFilter.q = '';
  queueFilter.page = 1;
  linksApplied.value++;
}
