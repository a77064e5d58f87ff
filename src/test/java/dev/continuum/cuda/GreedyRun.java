package dev.continuum.cuda;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;

import java.util.Arrays;

/**
 * Greedy decoding of one sequence straight through a runner (no engine): the prompt in one step, then one token a
 * step. Keeps each step's logits so two runners can be compared where they part.
 */
final class GreedyRun {
    static final int BLOCK_SIZE = 16;

    final int[] tokens;
    final float[][] logits;

    private GreedyRun(int[] tokens, float[][] logits) {
        this.tokens = tokens;
        this.logits = logits;
    }

    static GreedyRun run(ModelRunner runner, int[] prompt, int steps) {
        int total = prompt.length + steps;
        int blocks = (total + BLOCK_SIZE - 1) / BLOCK_SIZE;
        runner.allocateKvCache(blocks + 2, BLOCK_SIZE);
        int[][] table = new int[1][blocks];
        for (int b = 0; b < blocks; b++) {
            table[0][b] = blocks - b; // scattered, not 0, 1, 2...: the tables are really followed
        }
        StepBatch batch = new StepBatch(Math.max(prompt.length, 1), 1, table, BLOCK_SIZE);
        batch.markTableChanged(0);
        for (int i = 0; i < prompt.length; i++) {
            batch.addRow(prompt[i], i, 0);
        }
        batch.requestLogits(prompt.length - 1);
        int vocab = runner.shape().vocabSize();
        int[] out = new int[steps];
        float[][] kept = new float[steps][];
        StepOutput o = runner.forward(batch);
        for (int s = 0; s < steps; s++) {
            kept[s] = Arrays.copyOf(o.logits(), vocab);
            out[s] = argmax(kept[s]);
            if (s + 1 < steps) {
                batch.clear();
                batch.addRow(out[s], prompt.length + s, 0);
                batch.requestLogits(0);
                o = runner.forward(batch);
            }
        }
        return new GreedyRun(out, kept);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The gap between the best and second-best logit of step {@code s}. */
    float margin(int s) {
        float[] v = logits[s];
        int best = argmax(v);
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            if (i != best && v[i] > second) {
                second = v[i];
            }
        }
        return v[best] - second;
    }

    /** Largest absolute difference between this run's and {@code other}'s logits at step {@code s}. */
    float maxDifference(GreedyRun other, int s) {
        float worst = 0;
        for (int i = 0; i < logits[s].length; i++) {
            worst = Math.max(worst, Math.abs(logits[s][i] - other.logits[s][i]));
        }
        return worst;
    }
}
