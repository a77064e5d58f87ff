package dev.continuum.sampling;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The speculative sampling rule the engine verifies drawn proposals with: a proposal x drawn from the draft's
 * distribution q stands with probability min(1, p(x)/q(x)), else a token from normalize(max(0, p - q)) replaces
 * it, so the emitted token follows the target's p exactly, whatever q is. Checked by drawing: over many seeded
 * draws the emitted tokens' counts must fit p (chi-square goodness of fit, bound at significance 0.001 for the
 * degrees of freedom), with p and q both from {@link Sampler#distribution} under temperature, top-k, top-p, min-p
 * and penalties. Fixed seeds: the outcome is the same on every run.
 */
class SpeculativeRuleTest {
    private static final int VOCAB = 12;
    private static final int DRAWS = 200_000;

    private static final SamplingParams PLAIN = new SamplingParams(1f, 0, 1f, 0f, 0f, 0f, 1f, 11L);
    private static final SamplingParams TOP_K = new SamplingParams(0.7f, 6, 1f, 0f, 0f, 0f, 1f, 12L);
    private static final SamplingParams TOP_P = new SamplingParams(1.3f, 0, 0.8f, 0f, 0f, 0f, 1f, 13L);
    private static final SamplingParams PENALTIES = new SamplingParams(0.9f, 8, 0.95f, 0.05f, 0.5f, 0.3f, 1.2f, 14L);
    private static final SamplingParams[] ALL = {PLAIN, TOP_K, TOP_P, PENALTIES};

    /** A logits row of spread-out values, seeded. */
    private static float[] row(long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] row = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            row[i] = (float) (r.nextDouble(-1, 1) * scale);
        }
        return row;
    }

    /** A draft's row: the target's with noise, so q differs from p and proposals are sometimes rejected. */
    private static float[] perturbed(float[] target, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] row = target.clone();
        for (int i = 0; i < VOCAB; i++) {
            row[i] += (float) r.nextDouble(-1.5, 1.5);
        }
        return row;
    }

    /** A sampler with a context of a few tokens, so the penalties (when on) change the distributions. */
    private static Sampler sampler(SamplingParams params) {
        Sampler s = new Sampler(params, VOCAB);
        for (int t : new int[]{0, 3, 3, 7}) {
            s.accept(t);
        }
        return s;
    }

    private static double[] distribution(Sampler s, float[] logits) {
        float[] out = new float[VOCAB];
        s.distribution(logits.clone(), 0, out);
        double[] p = new double[VOCAB];
        double sum = 0;
        for (int i = 0; i < VOCAB; i++) {
            p[i] = out[i];
            sum += out[i];
        }
        assertEquals(1.0, sum, 1e-5, "a distribution sums to 1");
        return p;
    }

    private static void assertFits(long[] counts, double[] p, String what) {
        for (int i = 0; i < VOCAB; i++) {
            if (p[i] == 0) {
                assertEquals(0, counts[i], what + ": token " + i + " has p = 0 and was never emitted");
            }
        }
        ChiSquare.Result fit = ChiSquare.goodnessOfFit(counts, p);
        assertTrue(fit.degreesOfFreedom() >= 2, what + ": enough categories to mean something: " + fit);
        assertTrue(fit.passes(), what + ": " + fit);
    }

    @Test
    void acceptedOrReplacedProposalsFollowTheTargetDistribution() {
        for (int c = 0; c < ALL.length; c++) {
            SamplingParams params = ALL[c];
            for (long rows = 0; rows < 3; rows++) {
                float[] target = row(100 * c + rows, 3f);
                float[] draft = perturbed(target, 1000 * c + rows);
                Sampler sampler = sampler(params);
                double[] p = distribution(sampler, target);
                float[] pf = new float[VOCAB];
                sampler.distribution(target.clone(), 0, pf);
                float[] q = new float[VOCAB];
                sampler.distribution(draft.clone(), 0, q);
                float[] residual = new float[VOCAB];
                SplittableRandom proposals = new SplittableRandom(77 + c * 10L + rows);
                long[] counts = new long[VOCAB];
                long rejected = 0;
                for (int d = 0; d < DRAWS; d++) {
                    int x = Sampler.draw(q, proposals);
                    int token;
                    if (sampler.acceptsProposal(pf, q, x)) {
                        token = x;
                    } else {
                        rejected++;
                        System.arraycopy(pf, 0, residual, 0, VOCAB);
                        int r = sampler.drawResidual(residual, q);
                        token = r < 0 ? x : r;
                    }
                    counts[token]++;
                }
                String what = params + " rows " + rows;
                assertTrue(rejected > DRAWS / 50, what + ": q differs from p enough to reject (" + rejected + ")");
                assertTrue(rejected < DRAWS, what + ": and to accept");
                assertFits(counts, p, what);
            }
        }
    }

    @Test
    void theRuleWithoutTheResidualWouldNotFit() {
        // The check has teeth: emitting the proposal whenever it is accepted and a fresh draw from q otherwise
        // (no residual correction) leaves the emitted tokens following neither p nor anything the bound lets by.
        Sampler sampler = sampler(PLAIN);
        float[] target = row(5, 3f);
        double[] p = distribution(sampler, target);
        float[] pf = new float[VOCAB];
        sampler.distribution(target.clone(), 0, pf);
        float[] q = new float[VOCAB];
        sampler.distribution(perturbed(target, 6).clone(), 0, q);
        SplittableRandom proposals = new SplittableRandom(8);
        long[] counts = new long[VOCAB];
        for (int d = 0; d < DRAWS; d++) {
            int x = Sampler.draw(q, proposals);
            counts[sampler.acceptsProposal(pf, q, x) ? x : Sampler.draw(q, proposals)]++;
        }
        ChiSquare.Result fit = ChiSquare.goodnessOfFit(counts, p);
        assertTrue(!fit.passes(), "a wrong rule is caught: " + fit);
    }

    @Test
    void distributionIsWhatSampleDrawsFrom() {
        for (int c = 0; c < ALL.length; c++) {
            SamplingParams params = ALL[c];
            float[] logits = row(500 + c, 3f);
            Sampler sampler = sampler(params);
            double[] p = distribution(sampler, logits);
            float[] scratch = new float[VOCAB];
            long[] counts = new long[VOCAB];
            for (int d = 0; d < DRAWS; d++) {
                System.arraycopy(logits, 0, scratch, 0, VOCAB);
                counts[sampler.sample(scratch, 0)]++;
            }
            assertFits(counts, p, params.toString());
        }
    }

    @Test
    void filtersLeaveMassOnlyOnTheirCandidates() {
        float[] logits = row(900, 3f);
        double[] k = distribution(sampler(TOP_K), logits);
        int nonZero = 0;
        for (double v : k) {
            nonZero += v > 0 ? 1 : 0;
        }
        assertEquals(6, nonZero, "top-k 6 keeps six tokens");
    }

    @Test
    void greedyDistributionIsAllMassOnTheArgmax() {
        float[] logits = {0.5f, 2f, -1f, 2f, 1.9f, 0f, 0f, 0f, 0f, 0f, 0f, 0f};
        Sampler greedy = new Sampler(SamplingParams.GREEDY, VOCAB);
        float[] out = new float[VOCAB];
        greedy.distribution(logits.clone(), 0, out);
        float[] expected = new float[VOCAB];
        expected[1] = 1f; // ties go to the lowest index, as sample() picks
        assertArrayEquals(expected, out);
        assertEquals(1, greedy.sample(logits.clone(), 0));
        // With a repetition penalty the penalized argmax: token 1 seen, 2 / 1.5 < 1.9.
        Sampler penalized = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 0f, 0f, 1.5f, 0L), VOCAB);
        penalized.accept(1);
        penalized.accept(3);
        penalized.distribution(logits.clone(), 0, out);
        expected[1] = 0f;
        expected[4] = 1f;
        assertArrayEquals(expected, out);
        assertEquals(4, penalized.sample(logits.clone(), 0));
    }
}
