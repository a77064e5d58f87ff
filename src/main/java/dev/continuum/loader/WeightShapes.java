package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.tensor.WeightTensor;

/** Checks that a tensor has the shape the config implies, so a bad file fails at load, not mid-inference. */
final class WeightShapes {
    private WeightShapes() {
    }

    static WeightTensor expect(WeightTensor t, String name, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new ModelFormatException("tensor '" + name + "' is " + t.rows() + " x " + t.cols()
                    + " (rows x columns), expected " + rows + " x " + cols + " from the model's dimensions");
        }
        return t;
    }

    /** A 1-D weight (a norm or a bias) of exactly {@code n} elements, as floats. */
    static float[] vector(WeightTensor t, String name, int n) {
        if ((long) t.rows() * t.cols() != n) {
            throw new ModelFormatException("tensor '" + name + "' has " + (long) t.rows() * t.cols()
                    + " elements, expected " + n);
        }
        float[] out = new float[n];
        for (int r = 0; r < t.rows(); r++) {
            t.dequantizeRow(r, out, r * t.cols());
        }
        return out;
    }
}
