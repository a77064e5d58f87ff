package dev.continuum.cuda;

/** Greedy choice over a logits row, for the runner's own warm-up and the device check (the engine samples itself). */
final class Logits {
    private Logits() {
    }

    /** The index of the largest of {@code v[offset .. offset + n)}, the first on a tie. */
    static int argmax(float[] v, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
