package dev.continuum.server;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The speculative-decoding properties as the model host reads them: a draft that does not share the served
 * model's vocabulary, or options that contradict each other, fail the load with the reason /health shows; the
 * defaults speculate not at all and load.
 */
class SpeculativeLoadTest {
    @Test
    void aDraftWithAnotherVocabularyFailsTheLoadNamingIt() {
        // Both have 512 tokens; dummy:tiny's are byte-level pieces, stories260K's SentencePiece ones.
        ModelHost host = load(Map.of("continuum.speculative-model", "dummy:tiny"));
        assertEquals(ModelHost.State.FAILED, host.state());
        // The first piece that differs: 259, past the 3 specials and 256 byte tokens both have in the same places.
        assertEquals("failed to start speculative decoding for model 'embedded:stories260K': the speculative model's"
                + " token 259 is ' ', the served model's '\u2581t': a draft must share the target's vocabulary",
                host.failure());
    }

    @Test
    void contradictoryOptionsFailTheLoadNamingThem() {
        ModelHost both = load(Map.of("continuum.speculative-model", "dummy:tiny", "continuum.speculative-ngram", "3"));
        assertEquals(ModelHost.State.FAILED, both.state());
        assertEquals("failed to start speculative decoding for model 'embedded:stories260K': --speculative-model"
                + " (continuum.speculative-model) and --speculative-ngram (continuum.speculative-ngram) exclude each"
                + " other: choose one proposer", both.failure());
        ModelHost negative = load(Map.of("continuum.speculative-ngram", "2", "continuum.speculative-disable-above",
                "-2"));
        assertEquals(ModelHost.State.FAILED, negative.state());
        assertEquals("failed to start speculative decoding for model 'embedded:stories260K':"
                + " --speculative-disable-above (continuum.speculative-disable-above) must be >= 0, or -1 (the default:"
                + " decided by measured step costs), got -2", negative.failure());
        ModelHost zero = load(Map.of("continuum.speculative-ngram", "2", "continuum.num-speculative-tokens", "0"));
        assertEquals(ModelHost.State.FAILED, zero.state());
        assertEquals("failed to start speculative decoding for model 'embedded:stories260K': --num-speculative-tokens"
                + " (continuum.num-speculative-tokens) must be in [1, 32], got 0", zero.failure());
    }

    @Test
    void theDefaultsDoNotSpeculateAndPromptLookupLoads() {
        ContinuumConfig defaults = config(Map.of());
        assertEquals(0, defaults.speculativeNgram());
        assertEquals(dev.continuum.speculative.SpeculativeOptions.DEFAULT_NUM_TOKENS, defaults.numSpeculativeTokens());
        assertTrue(defaults.speculativeDisableAbove().isEmpty(), "unset: speculation decided by measured step costs");
        assertTrue(defaults.speculativeModel().isEmpty());
        ModelHost host = load(Map.of("continuum.speculative-ngram", "3"));
        try {
            assertEquals(ModelHost.State.READY, host.state(), host.failure());
        } finally {
            host.onStop(null);
        }
    }

    /** A host over the embedded stories260K, no warm-up, on the CPU, started and awaited until loading ends. */
    private static ModelHost load(Map<String, String> properties) {
        ModelHost host = new ModelHost(config(properties), new SimpleMeterRegistry());
        host.onStart(null);
        await().atMost(Duration.ofSeconds(30)).until(() -> host.state() != ModelHost.State.LOADING);
        return host;
    }

    private static ContinuumConfig config(Map<String, String> properties) {
        // Quarkus' converter reads durations such as "30s", as the server's config does.
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(ContinuumConfig.class)
                .withConverter(Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValues(Map.of("continuum.backend", "cpu", "continuum.threads", "1",
                        "continuum.warmup-tokens", "0", "continuum.kv-cache-blocks", "64"))
                .withSources(new io.smallrye.config.PropertiesConfigSource(properties, "test", 500))
                .build();
        return config.getConfigMapping(ContinuumConfig.class);
    }
}
