package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** One running sequence and room for about 4000 tokens of queued work: a burst of long requests meets the limit. */
public class TokenAdmissionProfile implements QuarkusTestProfile {
    static final int MAX_WAITING_TOKENS = 4000;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("continuum.max-num-seqs", "1", "continuum.max-waiting-tokens",
                Integer.toString(MAX_WAITING_TOKENS));
    }
}
