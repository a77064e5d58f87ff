package dev.continuum.speculative;

import dev.continuum.IntegrationTest;
import dev.continuum.engine.CollectingSink;
import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenProposer;
import dev.continuum.loader.LoadedModel;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.sampling.ChiSquare;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Speculative sampling with a draft model keeps the target's distribution: stories260K sampled at temperature 1
 * with an int4 copy of itself drafting (a different q, so proposals are rejected and replaced from the residual)
 * against the same requests without speculation. The seeds cannot give the same tokens (the acceptance test
 * draws from the sampler's generator), so the check is statistical: over {@value #REQUESTS} seeded requests of
 * three tokens, the second and the third tokens' counts, and the (second, third) pairs', must pass a two-sample
 * chi-square homogeneity test (bound at significance 0.001 for the degrees of freedom; categories with fewer than
 * {@value #MIN_COUNT} draws in both samples together pooled into one). The first token is sampled from the
 * prefill's row, before any proposal, so it must be the same token for token.
 */
@IntegrationTest
class DraftSamplingDistributionTest {
    private static final int REQUESTS = 3000;
    private static final int MIN_COUNT = 20;
    private static final String PROMPT = "One day, a";

    private static StoriesTarget stories;
    private static LoadedModel model;
    private static LoadedModel int4;
    private static ComputePool pool;

    @BeforeAll
    static void load() {
        stories = new StoriesTarget();
        model = stories.model;
        int4 = stories.int4;
        pool = stories.pool;
    }

    @AfterAll
    static void close() {
        if (stories != null) {
            stories.close();
        }
    }

    /** The {@value #REQUESTS} requests' tokens, all submitted at once (64 decoding together). */
    private static List<List<Integer>> sample(TokenProposer proposer, long[] verified) throws Exception {
        int[] body = model.tokenizer().encode(PROMPT, false);
        int[] prompt = new int[body.length + 1];
        prompt[0] = model.tokenizer().bosId();
        System.arraycopy(body, 0, prompt, 1, body.length);
        List<List<Integer>> out = new ArrayList<>();
        EngineConfig config = new EngineConfig(64, 512, REQUESTS, 16, 256, 256);
        Speculation speculation = proposer == TokenProposer.NONE ? Speculation.OFF
                : Speculation.fixed(proposer, Integer.MAX_VALUE, 0);
        try (InferenceEngine e = new InferenceEngine(new CpuModelRunner(model.config(), model.weights(), pool),
                model.tokenizer(), config, new SimpleMeterRegistry(), speculation)) {
            List<CollectingSink> sinks = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                SamplingParams hot = new SamplingParams(1f, 0, 1f, 0f, 0f, 0f, 1f, 9000L + i);
                CollectingSink s = new CollectingSink(1);
                // ignore_eos: every request has its three tokens, so the counts compare like with like.
                e.submit(new GenerationRequest("d" + i, prompt, 3, hot, List.of(), true, 1, -1), s);
                sinks.add(s);
            }
            for (CollectingSink s : sinks) {
                out.add(s.await().tokens.get(0));
            }
            verified[0] = e.metrics().draftTokens();
            verified[1] = e.metrics().acceptedTokens();
            assertEquals(0.0, e.kvUsage());
            if (proposer instanceof DraftModelProposer draft) {
                assertEquals(0, draft.blocks().usedBlocks(), "the draft's blocks are all back");
            }
        } finally {
            proposer.close();
        }
        return out;
    }

    /** Counts per category of {@code key} over both samples, aligned: index i is the same category in both. */
    private static ChiSquare.Result compare(List<List<Integer>> a, List<List<Integer>> b,
                                            java.util.function.Function<List<Integer>, Long> key) {
        Map<Long, Integer> index = new HashMap<>();
        for (List<List<Integer>> sample : List.of(a, b)) {
            for (List<Integer> t : sample) {
                index.putIfAbsent(key.apply(t), index.size());
            }
        }
        long[] ca = new long[index.size()];
        long[] cb = new long[index.size()];
        for (List<Integer> t : a) {
            ca[index.get(key.apply(t))]++;
        }
        for (List<Integer> t : b) {
            cb[index.get(key.apply(t))]++;
        }
        return ChiSquare.homogeneity(ca, cb, MIN_COUNT);
    }

    @Test
    void draftedTokensFollowTheTargetsDistribution() throws Exception {
        long[] none = new long[2];
        List<List<Integer>> plain = sample(TokenProposer.NONE, none);
        long[] counts = new long[2];
        DraftModelProposer draft = new DraftModelProposer(new CpuModelRunner(int4.config(), int4.weights(), pool),
                2, null);
        List<List<Integer>> speculative = sample(draft, counts);
        assertTrue(counts[0] > REQUESTS / 2, "nearly every request verified a proposal: " + counts[0]);
        assertTrue(counts[1] < counts[0], "the int4 draft's q differs from p: some rejected, " + counts[1] + "/"
                + counts[0]);
        for (int i = 0; i < REQUESTS; i++) {
            assertEquals(3, plain.get(i).size());
            assertEquals(3, speculative.get(i).size());
            assertEquals(plain.get(i).get(0), speculative.get(i).get(0), "request " + i + "'s first token");
        }
        ChiSquare.Result second = compare(plain, speculative, t -> (long) t.get(1));
        ChiSquare.Result third = compare(plain, speculative, t -> (long) t.get(2));
        ChiSquare.Result pairs = compare(plain, speculative, t -> t.get(1) * 100_000L + t.get(2));
        for (ChiSquare.Result r : List.of(second, third, pairs)) {
            assertTrue(r.degreesOfFreedom() >= 5, "enough categories to mean something: " + r);
        }
        assertTrue(second.passes(), "second token: " + second);
        assertTrue(third.passes(), "third token: " + third);
        assertTrue(pairs.passes(), "(second, third) pairs: " + pairs);
    }
}
