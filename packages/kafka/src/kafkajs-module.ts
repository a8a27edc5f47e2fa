// KafkaJS, loaded on first use rather than when `@offsite/kafka` is imported: the fast paths replace
// modules that KafkaJS captures when it loads, so a composition root installs them (installKafkajsFastPaths)
// before its first client; types come from `import type`, which loads nothing.
import { createRequire } from 'node:module';
import type * as KafkaJSModule from 'kafkajs';

const require = createRequire(import.meta.url);

export type KafkaJS = typeof KafkaJSModule;

let loaded: KafkaJS | undefined;

export function kafkajs(): KafkaJS {
  return (loaded ??= require('kafkajs') as KafkaJS);
}
