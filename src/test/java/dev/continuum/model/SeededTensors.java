package dev.continuum.model;

import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Seeded weights for the architecture test files that {@link GgufWriter} writes directly (architectures the
 * exporter does not write), in the types llama.cpp's converter gives them: matrices F32 or F16 (the F16 file
 * holding the F32 values rounded), vectors (norms, biases, rope factors) always F32.
 */
final class SeededTensors {
    private final SplittableRandom rnd;
    private final GgmlType type;
    private final GgufWriter out;
    private final String without;

    /** @param without a tensor to generate but leave out of the file (null: none): the others stay the same */
    SeededTensors(long seed, GgmlType type, GgufWriter out, String without) {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
        this.rnd = new SplittableRandom(seed);
        this.type = type;
        this.out = out;
        this.without = without;
    }

    /** A {@code rows x cols} matrix of normal(0, std) values, row-major; added to the file and returned. */
    float[] matrix(String name, int rows, int cols, double std) {
        float[] v = gaussian(rows * cols, 0, std);
        matrix(name, v, rows, cols);
        return v;
    }

    /** {@code v} (row-major) added as a {@code rows x cols} matrix of the file's type. */
    void matrix(String name, float[] v, int rows, int cols) {
        MemorySegment data = MemorySegment.ofArray(new byte[(int) type.bytesFor((long) rows * cols)]);
        for (int i = 0; i < v.length; i++) {
            if (type == GgmlType.F16) {
                data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v[i]));
            } else {
                data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v[i]);
            }
        }
        if (!name.equals(without)) {
            out.addTensor(name, type, new long[] {cols, rows}, data);
        }
    }

    /** An F32 vector of normal(mean, std) values. */
    float[] vector(String name, int n, double mean, double std) {
        float[] v = gaussian(n, mean, std);
        vector(name, v);
        return v;
    }

    /** {@code v} as an F32 vector. */
    void vector(String name, float[] v) {
        if (!name.equals(without)) {
            out.addTensor(name, GgmlType.F32, new long[] {v.length}, MemorySegment.ofArray(v.clone()));
        }
    }

    private float[] gaussian(int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + rnd.nextGaussian() * std);
        }
        return v;
    }
}
