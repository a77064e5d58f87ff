package dev.continuum.model;

import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;
import dev.continuum.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded weights for the architecture test files that {@link GgufWriter} writes directly (architectures the
 * exporter does not write), in the types llama.cpp's converter gives them: matrices F32 or F16 (the F16 file
 * holding the F32 values rounded), vectors (norms, biases, rope factors) always F32.
 *
 * <p>{@link InMemory} seeds the weights of the test models built in memory instead.
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

    /** {@code n} normal(mean, std) values, drawn as the others are but not added to the file. */
    float[] gaussian(int n, double mean, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + rnd.nextGaussian() * std);
        }
        return v;
    }

    /**
     * Seeded weights of a test model built in memory (and written by the exporter): matrices as {@link WeightTensor}s
     * in an arena, norms' weights as arrays, each drawn from {@code rnd} in the order asked for.
     *
     * @param name the weight tensors' name
     * @param type the matrices' type (any type {@link WeightEncoder} writes; F32 and F16 store each value as is,
     *             F16 rounded to nearest)
     */
    record InMemory(String name, GgmlType type, Arena arena, SplittableRandom rnd) {
        /** A {@code rows x cols} matrix of normal(0, std) values, drawn row by row. */
        WeightTensor matrix(int rows, int cols, double std) {
            return matrix(type, rows, cols, std);
        }

        /** A {@code rows x cols} matrix of normal(0, std) values in {@code type} rather than the model's. */
        WeightTensor matrix(GgmlType type, int rows, int cols, double std) {
            long rowBytes = type.bytesFor(cols);
            MemorySegment data = arena.allocate(rowBytes * rows, 64);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    row[j] = (float) (rnd.nextGaussian() * std);
                }
                WeightEncoder.encode(type, row, 0, cols, data, rowBytes * r);
            }
            return WeightTensor.of(name, type, data, rows, cols);
        }

        /** {@code n} values 1 + normal(0, std): a norm's weights. */
        float[] near1(int n, double std) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (1 + rnd.nextGaussian() * std);
            }
            return a;
        }
    }

    /** {@code n} ones. */
    static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }
}
