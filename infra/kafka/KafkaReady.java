import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Readiness probe and topic provisioning for the local single-node Kafka, in one JVM start.
 *
 * <p>Usage: {@code KafkaReady <bootstrap> <timeoutSeconds> [topic:partitions ...]}; the environment
 * variable {@code OFFSITE_KAFKA_CLIENT_CONFIG} may name a properties file of further client settings,
 * and {@code OFFSITE_KAFKA_REPLICATION_FACTOR} the replication factor of created topics (default 1; the
 * cluster mode's three brokers use 3).
 *
 * <ol>
 *   <li>Waits until a metadata request (describeCluster + listTopics) succeeds.
 *   <li>Creates each missing topic with its partition count and replication factor, raises the
 *       partition count of an existing topic that has fewer, and reports one that has more.
 *   <li>Waits until every partition of those topics has a leader and all its replicas in sync.
 * </ol>
 *
 * Exits 0 when all is ready, 1 with a message on stderr otherwise.
 */
public final class KafkaReady {
  private KafkaReady() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: KafkaReady <bootstrap> <timeoutSeconds> [topic:partitions ...]");
      System.exit(2);
    }
    String bootstrap = args[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
    Map<String, Integer> wanted = new HashMap<>();
    for (int i = 2; i < args.length; i++) {
      String[] parts = args[i].split(":", 2);
      if (parts.length != 2) {
        System.err.println("bad topic spec (want name:partitions): " + args[i]);
        System.exit(2);
      }
      wanted.put(parts[0], Integer.parseInt(parts[1]));
    }

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "offsite-infra");
    // Secure mode: SASL_SSL settings (security.protocol, sasl.*, ssl.truststore.*) from a properties file.
    String clientConfig = System.getenv("OFFSITE_KAFKA_CLIENT_CONFIG");
    if (clientConfig != null && !clientConfig.isEmpty()) {
      try (java.io.Reader in = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(clientConfig))) {
        props.load(in);
      }
    }

    try (Admin admin = Admin.create(props)) {
      Set<String> existing = waitForMetadata(admin, deadline);
      ensureTopics(admin, wanted, existing, deadline);
      waitForLeaders(admin, wanted, deadline);
    } catch (ReadyException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }

  private static final class ReadyException extends Exception {
    ReadyException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static Set<String> waitForMetadata(Admin admin, long deadline) throws ReadyException {
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      try {
        List<Node> nodes = new ArrayList<>(admin.describeCluster().nodes().get(5, TimeUnit.SECONDS));
        Set<String> names = admin.listTopics().names().get(5, TimeUnit.SECONDS);
        if (!nodes.isEmpty()) {
          System.out.println("kafka metadata ok: " + nodes.size() + " broker(s), " + names.size() + " topic(s)");
          return names;
        }
      } catch (Exception e) {
        last = e;
      }
      sleep(500);
    }
    throw new ReadyException("kafka: no metadata answer before the deadline: " + describe(last), last);
  }

  private static void ensureTopics(
      Admin admin, Map<String, Integer> wanted, Set<String> existing, long deadline) throws ReadyException {
    List<NewTopic> create = new ArrayList<>();
    for (Map.Entry<String, Integer> e : wanted.entrySet()) {
      if (!existing.contains(e.getKey())) {
        create.add(new NewTopic(e.getKey(), e.getValue(), replicationFactor()));
      }
    }
    if (!create.isEmpty()) {
      for (NewTopic t : create) {
        try {
          admin.createTopics(List.of(t)).all().get(15, TimeUnit.SECONDS);
          System.out.println("created topic " + t.name() + " (" + t.numPartitions() + " partitions)");
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            throw new ReadyException("kafka: creating topic " + t.name() + " failed: " + describe(ex), ex);
          }
        } catch (Exception ex) {
          throw new ReadyException("kafka: creating topic " + t.name() + " failed: " + describe(ex), ex);
        }
      }
    }
    Map<String, TopicDescription> described = describeUntilKnown(admin, wanted.keySet(), deadline);
    Map<String, NewPartitions> grow = new HashMap<>();
    for (Map.Entry<String, Integer> e : wanted.entrySet()) {
      TopicDescription d = described.get(e.getKey());
      int have = d == null ? 0 : d.partitions().size();
      if (have < e.getValue()) {
        grow.put(e.getKey(), NewPartitions.increaseTo(e.getValue()));
      } else if (have > e.getValue()) {
        System.err.println(
            "warning: topic " + e.getKey() + " has " + have + " partitions, infra wants " + e.getValue()
                + " (partitions cannot be removed; delete the topic to reset it)");
      }
    }
    if (!grow.isEmpty()) {
      try {
        admin.createPartitions(grow).all().get(15, TimeUnit.SECONDS);
        System.out.println("raised partition counts: " + grow.keySet());
      } catch (Exception ex) {
        throw new ReadyException("kafka: raising partition counts failed: " + describe(ex), ex);
      }
    }
  }

  /** Just-created topics take a moment to reach the broker's metadata cache: retry until then. */
  private static Map<String, TopicDescription> describeUntilKnown(Admin admin, Set<String> names, long deadline)
      throws ReadyException {
    while (true) {
      try {
        return describeTopics(admin, names);
      } catch (ReadyException ex) {
        if (System.nanoTime() >= deadline) {
          throw ex;
        }
        sleep(200);
      }
    }
  }

  private static Map<String, TopicDescription> describeTopics(Admin admin, Set<String> names)
      throws ReadyException {
    if (names.isEmpty()) {
      return Map.of();
    }
    try {
      return admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
    } catch (Exception ex) {
      throw new ReadyException("kafka: describing topics failed: " + describe(ex), ex);
    }
  }

  private static void waitForLeaders(Admin admin, Map<String, Integer> wanted, long deadline)
      throws ReadyException {
    if (wanted.isEmpty()) {
      return;
    }
    String missing = "";
    while (System.nanoTime() < deadline) {
      missing = "";
      try {
        for (TopicDescription d : describeTopics(admin, wanted.keySet()).values()) {
          for (TopicPartitionInfo p : d.partitions()) {
            if (p.leader() == null || p.leader().isEmpty()) {
              missing += " " + d.name() + "-" + p.partition();
            } else if (p.isr().size() < p.replicas().size()) {
              missing += " " + d.name() + "-" + p.partition() + " (in sync " + p.isr().size() + "/" + p.replicas().size() + ")";
            }
          }
        }
        if (missing.isEmpty()) {
          System.out.println("kafka topics ready: " + String.join(", ", new java.util.TreeSet<>(wanted.keySet())));
          return;
        }
      } catch (ReadyException ex) {
        missing = ex.getMessage();
      }
      sleep(300);
    }
    throw new ReadyException("kafka: partitions without a leader or in-sync replicas before the deadline:" + missing, null);
  }

  private static short replicationFactor() {
    String rf = System.getenv("OFFSITE_KAFKA_REPLICATION_FACTOR");
    return rf == null || rf.isEmpty() ? 1 : Short.parseShort(rf);
  }

  private static String describe(Throwable t) {
    if (t == null) {
      return "timeout";
    }
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
