package dev.continuum.speculative;

import dev.continuum.IntegrationTest;
import dev.continuum.engine.CollectingSink;
import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.FinishReason;
import dev.continuum.engine.GenerationRequest;
import dev.continuum.engine.InferenceEngine;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenEvent;
import dev.continuum.engine.TokenProposer;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tensor.ComputePool;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Speculative decoding changes how many steps greedy decoding takes, never its tokens: on stories260K, with prompt
 * lookup, with the model itself as its own draft (every proposal must then be accepted) and with a worse draft of
 * the same vocabulary (stories260K quantized to int4 at load: some proposals rejected), each request's tokens equal
 * those of the engine without speculation, alone, batched 16 at once, under preemption, with n = 2 choices, stop
 * strings and short max_tokens. Prompt lookup under sampling gives the same tokens as without it too, seed for seed.
 */
@IntegrationTest
class GreedySpeculationTest {
    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Ben", "One day",
            "The sun was", "Tom had a big", "She saw a cat", "The bird sang", "A boy named", "In the park",
            "Mom said", "The tree was tall", "He wanted to", "They played with", "The car went", "It was a sunny"};
    private static final int MAX_TOKENS = 64;

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

    /** One of the proposers under test, made fresh for each engine (a draft's cache is sized by its engine). */
    private enum Kind {
        NGRAM, SELF_DRAFT, INT4_DRAFT;

        TokenProposer open() {
            return switch (this) {
                case NGRAM -> new NgramProposer(3, 5);
                case SELF_DRAFT -> new DraftModelProposer(new CpuModelRunner(model.config(), model.weights(), pool), 5,
                        null);
                case INT4_DRAFT -> new DraftModelProposer(new CpuModelRunner(int4.config(), int4.weights(), pool), 5,
                        null);
            };
        }
    }

    /** An engine, the proposer it speculates with (NONE: plain), and the registry its counters are in. */
    private record Engine(InferenceEngine engine, TokenProposer proposer, SimpleMeterRegistry registry)
            implements AutoCloseable {
        @Override
        public void close() {
            engine.close();
            proposer.close();
        }

        double preemptions() {
            return registry.get("continuum.preemptions").counter().count();
        }

        /** Nothing held by the target's pool nor, for a draft model, by the draft's. */
        void assertNothingHeld() {
            assertEquals(0.0, engine.kvUsage(), "the target's blocks are all back");
            if (proposer instanceof DraftModelProposer draft) {
                assertEquals(0, draft.blocks().usedBlocks(), "the draft's blocks are all back");
            }
        }
    }

    private static Engine engine(TokenProposer proposer, EngineConfig config) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // Speculate whatever the batch size and the acceptance: the point is to verify as many proposals as we can.
        Speculation speculation = proposer == TokenProposer.NONE ? Speculation.OFF
                : Speculation.fixed(proposer, Integer.MAX_VALUE, 0);
        InferenceEngine e = new InferenceEngine(new CpuModelRunner(model.config(), model.weights(), pool),
                model.tokenizer(), config, registry, speculation);
        return new Engine(e, proposer, registry);
    }

    private static EngineConfig roomy(int seqs) {
        return new EngineConfig(seqs, 64, 64, 16, 256, 512);
    }

    private static int[] prompt(String text) {
        int[] body = model.tokenizer().encode(text, false);
        int[] p = new int[body.length + 1];
        p[0] = model.tokenizer().bosId();
        System.arraycopy(body, 0, p, 1, body.length);
        return p;
    }

    private static GenerationRequest request(String text, int maxTokens, SamplingParams sampling, int n,
                                             List<String> stop) {
        return new GenerationRequest(text, prompt(text), maxTokens, sampling, stop, false, n, -1);
    }

    private static GenerationRequest greedy(String text, int maxTokens) {
        return request(text, maxTokens, SamplingParams.GREEDY, 1, List.of());
    }

    /** Submits all, then waits for all: as concurrent as the engine's seats allow. */
    private static List<CollectingSink> runAll(InferenceEngine e, List<GenerationRequest> requests) throws Exception {
        List<CollectingSink> sinks = new ArrayList<>();
        for (GenerationRequest r : requests) {
            CollectingSink s = new CollectingSink(r.n());
            e.submit(r, s);
            sinks.add(s);
        }
        for (CollectingSink s : sinks) {
            s.await();
        }
        return sinks;
    }

    private static List<GenerationRequest> allPrompts(Supplier<SamplingParams> sampling) {
        List<GenerationRequest> rs = new ArrayList<>();
        for (String p : PROMPTS) {
            rs.add(request(p, MAX_TOKENS, sampling.get(), 1, List.of()));
        }
        return rs;
    }

    /** Without speculation, one at a time: the reference. */
    private static List<CollectingSink> plain(List<GenerationRequest> requests) throws Exception {
        try (Engine e = engine(TokenProposer.NONE, roomy(1))) {
            return runAll(e.engine(), requests);
        }
    }

    private static void assertSameOutputs(List<CollectingSink> expected, List<CollectingSink> actual, String what) {
        for (int i = 0; i < actual.size(); i++) {
            for (int c = 0; c < expected.get(i).tokens.size(); c++) {
                assertEquals(expected.get(i).tokens.get(c), actual.get(i).tokens.get(c), what + ": request " + i
                        + " choice " + c);
                assertEquals(expected.get(i).text.get(c).toString(), actual.get(i).text.get(c).toString());
                assertEquals(expected.get(i).reasons.get(c), actual.get(i).reasons.get(c));
            }
        }
    }

    /** Checks what the proposer's verification counters say about it. */
    private static void assertAcceptance(Kind kind, Engine e) {
        long proposed = e.engine().metrics().draftTokens();
        long accepted = e.engine().metrics().acceptedTokens();
        assertTrue(proposed > 0, kind + " proposed something");
        switch (kind) {
            case SELF_DRAFT -> assertEquals(proposed, accepted, "the target's own proposals are its greedy tokens");
            case INT4_DRAFT -> {
                assertTrue(accepted < proposed, "an int4 draft is sometimes wrong: " + accepted + "/" + proposed);
                assertTrue(accepted > proposed / 4, "and mostly right: " + accepted + "/" + proposed);
            }
            case NGRAM -> assertTrue(accepted > 0, "the stories repeat themselves: " + accepted + "/" + proposed);
        }
    }

    @Test
    void aloneAndBatchedEveryProposerGivesThePlainTokens() throws Exception {
        List<GenerationRequest> requests = allPrompts(() -> SamplingParams.GREEDY);
        List<CollectingSink> reference = plain(requests);
        for (Kind kind : Kind.values()) {
            try (Engine e = engine(kind.open(), roomy(1))) {
                assertSameOutputs(reference, runAll(e.engine(), requests.subList(0, 4)), kind + " alone");
                assertAcceptance(kind, e);
                e.assertNothingHeld();
            }
            try (Engine e = engine(kind.open(), roomy(16))) {
                assertSameOutputs(reference, runAll(e.engine(), requests), kind + " batched");
                assertTrue(e.engine().metrics().peakBatch() > 4, "batched: " + e.engine().metrics().peakBatch());
                assertAcceptance(kind, e);
                e.assertNothingHeld();
            }
        }
    }

    /**
     * Log-probabilities are the target's for the emitted tokens, whichever step's row produced them: with four
     * alternatives each, every token's logprob and its alternatives are the plain run's, bit for bit, for every
     * proposer and 16 sequences at once (a verification row computes the same bits as a decode row).
     */
    @Test
    void logprobsAreThePlainRunsBitForBit() throws Exception {
        List<GenerationRequest> requests = new ArrayList<>();
        for (String p : PROMPTS) {
            requests.add(new GenerationRequest(p, prompt(p), 32, SamplingParams.GREEDY, List.of(), false, 1, 4));
        }
        List<CollectingSink> reference = plain(requests);
        for (Kind kind : Kind.values()) {
            try (Engine e = engine(kind.open(), roomy(16))) {
                List<CollectingSink> actual = runAll(e.engine(), requests);
                assertSameOutputs(reference, actual, kind + " with logprobs");
                for (int i = 0; i < requests.size(); i++) {
                    List<TokenEvent> want = reference.get(i).events.get(0);
                    List<TokenEvent> got = actual.get(i).events.get(0);
                    assertEquals(want.size(), got.size());
                    for (int t = 0; t < want.size(); t++) {
                        String where = kind + ", request " + i + ", token " + t;
                        assertEquals(Float.floatToRawIntBits(want.get(t).logprob()),
                                Float.floatToRawIntBits(got.get(t).logprob()), where);
                        assertArrayEquals(want.get(t).topTokens(), got.get(t).topTokens(), where);
                        assertArrayEquals(bits(want.get(t).topLogprobs()), bits(got.get(t).topLogprobs()), where);
                    }
                }
                assertAcceptance(kind, e);
                e.assertNothingHeld();
            }
        }
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    @Test
    void preemptedSpeculatingSequencesGiveThePlainTokens() throws Exception {
        List<GenerationRequest> requests = allPrompts(() -> SamplingParams.GREEDY).subList(0, 8);
        List<CollectingSink> reference = plain(requests);
        for (Kind kind : Kind.values()) {
            // 12 blocks of 16 for eight sequences of ~70 tokens (5 blocks each): most must wait or be preempted.
            try (Engine e = engine(kind.open(), new EngineConfig(8, 64, 64, 16, 12, 192))) {
                assertSameOutputs(reference, runAll(e.engine(), requests), kind + " preempted");
                assertTrue(e.preemptions() > 0, kind + ": someone was preempted");
                assertAcceptance(kind, e);
                e.assertNothingHeld();
            }
        }
    }

    @Test
    void choicesStopStringsAndLimitsBehaveAsWithoutSpeculation() throws Exception {
        String full = plain(List.of(greedy("Once upon a time", MAX_TOKENS))).get(0).text.get(0).toString();
        // A stop string from the middle of the text, after a stretch prompt lookup can propose across.
        String stop = full.substring(full.length() / 2, full.length() / 2 + 4);
        List<GenerationRequest> requests = new ArrayList<>();
        requests.add(request("Once upon a time", 40, SamplingParams.GREEDY, 2, List.of()));
        requests.add(request("Once upon a time", MAX_TOKENS, SamplingParams.GREEDY, 1, List.of(stop)));
        requests.add(request("Lily and Ben", MAX_TOKENS, SamplingParams.GREEDY, 2, List.of(stop, "zzz")));
        for (int max : new int[]{1, 2, 3, 7}) {
            requests.add(greedy("The little dog", max));
        }
        List<CollectingSink> reference = plain(requests);
        assertEquals(FinishReason.STOP, reference.get(1).reasons.get(0), "the stop string is met");
        assertEquals(full.substring(0, full.indexOf(stop)), reference.get(1).text.get(0).toString());
        assertEquals(reference.get(0).tokens.get(0), reference.get(0).tokens.get(1), "greedy choices agree");
        for (Kind kind : Kind.values()) {
            try (Engine e = engine(kind.open(), roomy(8))) {
                assertSameOutputs(reference, runAll(e.engine(), requests), kind.toString());
                e.assertNothingHeld();
            }
        }
    }

    @Test
    void promptLookupLeavesSeededSamplingTokenForToken() throws Exception {
        long[] seed = {1000};
        List<GenerationRequest> requests = allPrompts(
                () -> new SamplingParams(0.8f, 0, 0.95f, 0f, 0.2f, 0.1f, 1.1f, seed[0]++));
        requests.add(request("Once upon a time", 40, new SamplingParams(0.8f, 20, 0.95f, 0f, 0.2f, 0.1f, 1.1f, 5L),
                3, List.of()));
        List<CollectingSink> reference = plain(requests);
        assertNotEquals(reference.get(16).tokens.get(0), reference.get(16).tokens.get(1), "choices sample apart");
        try (Engine e = engine(Kind.NGRAM.open(), roomy(16))) {
            assertSameOutputs(reference, runAll(e.engine(), requests), "n-gram sampling");
            assertTrue(e.engine().metrics().acceptedTokens() > 0, "proposals were accepted while sampling");
            e.assertNothingHeld();
        }
    }

    @Test
    void aSmallDummyDraftsForALargerOneOfTheSameVocabulary() throws Exception {
        try (LoadedModel target = ModelLoader.load("dummy:110m:q8_0", null, null);
             LoadedModel draft = ModelLoader.load("dummy:15m", null, null)) {
            DraftModelProposer.checkVocabulary(target.tokenizer(), target.config().vocabSize(), draft.tokenizer(),
                    draft.config().vocabSize());
            int[] body = target.tokenizer().encode("Once upon a time", false);
            int[] p = new int[body.length + 1];
            p[0] = target.tokenizer().bosId();
            System.arraycopy(body, 0, p, 1, body.length);
            GenerationRequest r = new GenerationRequest("d", p, 24, SamplingParams.GREEDY, List.of(), true, 1, -1);
            EngineConfig config = new EngineConfig(1, 64, 4, 16, 8, 128);
            List<Integer> expected;
            try (InferenceEngine plain = new InferenceEngine(
                    new CpuModelRunner(target.config(), target.weights(), pool), target.tokenizer(), config,
                    new SimpleMeterRegistry())) {
                expected = runAll(plain, List.of(r)).get(0).tokens.get(0);
            }
            DraftModelProposer proposer = new DraftModelProposer(
                    new CpuModelRunner(draft.config(), draft.weights(), pool), 4, null);
            try (InferenceEngine e = new InferenceEngine(new CpuModelRunner(target.config(), target.weights(), pool),
                    target.tokenizer(), config, new SimpleMeterRegistry(), Speculation.fixed(proposer, 8, 0))) {
                assertEquals(expected, runAll(e, List.of(r)).get(0).tokens.get(0));
                assertEquals(24, expected.size());
                assertTrue(e.metrics().draftTokens() > 0, "the draft proposed");
                assertEquals(0, proposer.blocks().usedBlocks());
            }
        }
    }
}
