package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** One running sequence and one waiting request at most, to see the 429. */
public class QueueLimitProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("continuum.max-num-seqs", "1", "continuum.max-waiting", "1");
    }
}
