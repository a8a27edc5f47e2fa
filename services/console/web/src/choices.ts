// The enterprises and districts a form may pick from: those the API shows the signed-in user (an officer
// sees the own district's only), fetched when the form is set up and named in the chosen language.
import { computed, ref } from 'vue';
import { api } from './api';
import { lang } from './i18n';
import { enterpriseName } from './labels';

interface Named {
  id: string;
  nameZh: string;
  nameEn: string | null;
}

function useChoices(url: string, label: (x: Named) => string) {
  const items = ref<Named[]>([]);
  // A failed list leaves the select empty; the form's own request then shows the error.
  void api<{ items: Named[] }>('GET', url)
    .then((r) => (items.value = r.items))
    .catch(() => undefined);
  return computed(() => items.value.map((x) => ({ value: x.id, label: label(x) })));
}

/** The enterprises in the user's scope as `名称 (ent-0001)` choices. */
export const useEnterpriseChoices = () =>
  useChoices('/api/enterprises', (e) => `${enterpriseName(e.nameZh, e.nameEn)} (${e.id})`);

/** The districts in the user's scope, named in the chosen language. */
export const useDistrictChoices = () =>
  useChoices('/api/districts', (d) => (lang.value === 'en' && d.nameEn ? d.nameEn : d.nameZh));
