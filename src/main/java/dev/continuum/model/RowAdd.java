package dev.continuum.model;

/** The additions of a forward pass over a step's rows: a bias onto every row, a sub-block's output onto the residual. */
final class RowAdd {
    private RowAdd() {
    }

    /** {@code out[i * width + j] += bias[j]} for each of {@code n} rows; nothing when {@code bias} is null. */
    static void bias(float[] out, float[] bias, int n, int width) {
        if (bias == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < width; j++) {
                out[i * width + j] += bias[j];
            }
        }
    }

    /** {@code acc[i] += delta[i]} for {@code i < count}. */
    static void into(float[] acc, float[] delta, int count) {
        for (int i = 0; i < count; i++) {
            acc[i] += delta[i];
        }
    }
}
