export { installKafkajsFastPaths, kafkajsFastPaths, type KafkajsFastPaths } from './kafkajs-fast.js';
export type { Logger } from './logger.js';
export { createKafkaClient, type KafkaClientOptions } from './client.js';
export { ensureTopics, type TopicSpec } from './topics.js';
export {
  createDurableProducer,
  memoisedDefaultPartitioner,
  type DurableProducer,
  type OutgoingMessage,
  type ProducerOptions,
} from './producer.js';
export {
  consumerComponent,
  createBatchConsumer,
  groupJoinDeadlineMs,
  type BatchConsumer,
  type BatchConsumerOptions,
  type ConsumedBatch,
  type ConsumedMessage,
} from './consumer.js';
export { isLoopbackHost, resolveCompression } from './compression.js';
export {
  createPublisher,
  PublisherError,
  type BatchProducer,
  type OutRecord,
  type Publisher,
  type PublisherOptions,
} from './publisher.js';
