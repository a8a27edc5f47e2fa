// A list sorted by a column header and paged in the page (lists the API returns whole): the header's
// `sort-change` orders the whole list, the pager shows its slice.
import { computed, ref, watch, type Ref } from 'vue';

export type SortOrder = 'ascending' | 'descending';
/** A header's button turns the order round (the list is always sorted by some column). */
export const SORT_ORDERS: SortOrder[] = ['ascending', 'descending'];

/** `rows` sorted by `sortKey(row, prop)` (numbers as numbers, text in Chinese collation) and paged. */
export function useClientTable<T>(
  rows: Ref<T[]>,
  initial: { prop: string; order: SortOrder },
  sortKey: (row: T, prop: string) => string | number | null = (r, p) =>
    (r as Record<string, string | number | null>)[p] ?? null,
  pageSize = 20,
) {
  const sort = ref<{ prop: string; order: SortOrder | null }>({ ...initial });
  const page = ref(1);
  watch(rows, () => (page.value = 1));
  const sorted = computed(() => {
    const { prop, order } = sort.value;
    if (!order) return rows.value;
    const dir = order === 'ascending' ? 1 : -1;
    return [...rows.value].sort((a, b) => {
      const x = sortKey(a, prop);
      const y = sortKey(b, prop);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (
        dir *
        (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN'))
      );
    });
  });
  const pageRows = computed(() => sorted.value.slice((page.value - 1) * pageSize, page.value * pageSize));
  function onSort(s: { prop: string; order: SortOrder | null }) {
    sort.value = { prop: s.prop, order: s.order };
    page.value = 1;
  }
  return { sort, page, pageSize, sorted, pageRows, onSort, defaultSort: initial };
}

/** What `useClientTable` gives a page (components/PagedTable.vue shows it). */
export type ClientTable<T> = ReturnType<typeof useClientTable<T>>;
