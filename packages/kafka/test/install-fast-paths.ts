// Jest setup of the tests against the servers (integration, flow, secure, cluster): the KafkaJS fast paths
// installed in each test file's module registry before the test loads KafkaJS, so the tests run the produce
// path production runs.
import { installKafkajsFastPaths } from '../src/kafkajs-fast.js';

installKafkajsFastPaths();
