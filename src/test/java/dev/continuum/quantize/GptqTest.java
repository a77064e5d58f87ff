package dev.continuum.quantize;

import dev.continuum.loader.DummyModelFactory;
import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufTensorInfo;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPTQ writes standard blocks whose layer outputs on the calibration inputs are closer than plain rounding's. */
class GptqTest {
    @TempDir
    Path tmp;

    @Test
    void upperCholeskyOfTheInverse() {
        int n = 5;
        double[] h = new double[n * n];
        SplittableRandom rnd = new SplittableRandom(1);
        double[] a = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = i == j ? 0.5 : 0;
                for (int k = 0; k < n; k++) {
                    s += a[i * n + k] * a[j * n + k];
                }
                h[i * n + j] = s;
            }
        }
        double[] u = Gptq.upperCholeskyOfInverse(h.clone(), n);
        // (U^T U) H = I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    double hinv = 0;
                    for (int m = 0; m < n; m++) {
                        hinv += u[m * n + i] * u[m * n + k];
                    }
                    s += hinv * h[k * n + j];
                }
                assertEquals(i == j ? 1 : 0, s, 1e-9, i + "," + j);
                if (j < i) {
                    assertEquals(0, u[i * n + j]);
                }
            }
        }
    }

    /** On inputs with correlated features, GPTQ's output error is below plain rounding's, for each block type. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL"})
    void beatsRoundToNearestOnCorrelatedInputs(GgmlType type) {
        int rows = 16;
        int cols = 256;
        int tokens = 512;
        SplittableRandom rnd = new SplittableRandom(7);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian(0, 0.02);
        }
        // X = Z M: a few latent factors make the input features strongly correlated, as real activations are.
        double[] h = new double[cols * cols];
        double[] x = new double[cols];
        double[] z = new double[8];
        double[][] mix = new double[8][cols];
        for (double[] m : mix) {
            for (int j = 0; j < cols; j++) {
                m[j] = rnd.nextGaussian();
            }
        }
        for (int t = 0; t < tokens; t++) {
            for (int f = 0; f < z.length; f++) {
                z[f] = rnd.nextGaussian();
            }
            for (int j = 0; j < cols; j++) {
                double s = 0.1 * rnd.nextGaussian();
                for (int f = 0; f < z.length; f++) {
                    s += z[f] * mix[f][j];
                }
                x[j] = s;
            }
            for (int i = 0; i < cols; i++) {
                for (int j = 0; j < cols; j++) {
                    h[i * cols + j] += 2 * x[i] * x[j] / tokens;
                }
            }
        }
        byte[] rtn = new byte[(int) type.bytesFor((long) rows * cols)];
        BlockEncoder enc = BlockEncoder.of(type);
        for (int r = 0; r < rows; r++) {
            enc.encodeRow(w, r * cols, cols, rtn, r * (int) type.bytesFor(cols));
        }
        byte[] gptq = new byte[rtn.length];
        Gptq.quantize(type, w.clone(), rows, cols, h.clone(), gptq);
        double eRtn = outputError(w, decode(type, rtn, rows, cols), h, rows, cols);
        double eGptq = outputError(w, decode(type, gptq, rows, cols), h, rows, cols);
        assertTrue(eGptq < 0.8 * eRtn, type + ": GPTQ " + eGptq + " vs round-to-nearest " + eRtn);
    }

    /** The whole path on a dummy model: every GPTQ matrix's output error on its calibration Hessian is lower. */
    @Test
    void aModelQuantizedWithCalibrationHasLowerLayerErrors() throws IOException {
        Path in = tmp.resolve("tiny-f32.gguf");
        Map<String, double[]> hessians;
        try (LoadedModel m = DummyModelFactory.create("tiny")) {
            GgufExporter.write(m, in);
            hessians = Calibration.hessians(m, "Once upon a time there was a little girl who liked to count: one,"
                    + " two, three, four, five, six, seven. She counted the stars and the trees.", 128);
        }
        assertEquals(7 * 2 + 1, hessians.size());
        Path rtnFile = tmp.resolve("rtn.gguf");
        Path gptqFile = tmp.resolve("gptq.gguf");
        GgufQuantizer.quantize(in, rtnFile, QuantizeType.Q4_0, true, 1, null);
        GgufQuantizer.quantize(in, gptqFile, QuantizeType.Q4_0, true, 1, null, hessians);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f32 = GgufFile.open(in, arena);
            GgufFile rtn = GgufFile.open(rtnFile, arena);
            GgufFile gptq = GgufFile.open(gptqFile, arena);
            for (Map.Entry<String, double[]> e : hessians.entrySet()) {
                GgufTensorInfo t = f32.tensor(e.getKey());
                int rows = (int) t.rows();
                int cols = (int) t.columns();
                float[] w = f32.bytes(t).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
                assertEquals(GgmlType.Q4_0, gptq.tensor(e.getKey()).type());
                double eRtn = outputError(w, decode(GgmlType.Q4_0, bytes(rtn, e.getKey()), rows, cols), e.getValue(), rows, cols);
                double eGptq = outputError(w, decode(GgmlType.Q4_0, bytes(gptq, e.getKey()), rows, cols), e.getValue(), rows, cols);
                assertTrue(eGptq < eRtn, e.getKey() + ": GPTQ " + eGptq + " vs round-to-nearest " + eRtn);
            }
        }
    }

    private static byte[] bytes(GgufFile f, String name) {
        return f.bytes(f.tensor(name)).toArray(ValueLayout.JAVA_BYTE);
    }

    /** sum over rows of (w - q) H (w - q)^T / 2: the squared output error summed over the calibration tokens. */
    static double outputError(float[] w, float[] q, double[] h, int rows, int cols) {
        double total = 0;
        double[] d = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                d[j] = w[r * cols + j] - q[r * cols + j];
            }
            for (int i = 0; i < cols; i++) {
                double s = 0;
                for (int j = 0; j < cols; j++) {
                    s += h[i * cols + j] * d[j];
                }
                total += d[i] * s;
            }
        }
        return total / 2;
    }

    /** The blocks decoded by the loader's dequantization (bit for bit ggml's), so the bytes are standard blocks. */
    static float[] decode(GgmlType type, byte[] b, int rows, int cols) {
        float[] out = new float[rows * cols];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(b.length);
            MemorySegment.copy(b, 0, data, ValueLayout.JAVA_BYTE, 0, b.length);
            WeightTensor t = WeightTensor.of("w", type, data, rows, cols);
            for (int r = 0; r < rows; r++) {
                t.dequantizeRow(r, out, r * cols);
            }
        }
        return out;
    }

    /** With no correlation between inputs (H = I), GPTQ's compensation does nothing: the bytes are the encoder's. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL"})
    void withAnIdentityHessianItIsRoundToNearest(GgmlType type) {
        int rows = 8;
        int cols = 128;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian(0, 0.02);
        }
        double[] h = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            h[i * cols + i] = 1;
        }
        byte[] rtn = new byte[(int) type.bytesFor((long) rows * cols)];
        BlockEncoder enc = BlockEncoder.of(type);
        for (int r = 0; r < rows; r++) {
            enc.encodeRow(w, r * cols, cols, rtn, r * (int) type.bytesFor(cols));
        }
        byte[] gptq = new byte[rtn.length];
        Gptq.quantize(type, w.clone(), rows, cols, h, gptq);
        // Levels may differ only where the encoder rounds with the unrounded scale and GPTQ with the stored one.
        float[] a = decode(type, rtn, rows, cols);
        float[] b = decode(type, gptq, rows, cols);
        int differ = 0;
        for (int i = 0; i < a.length; i++) {
            differ += a[i] != b[i] ? 1 : 0;
        }
        assertTrue(differ <= a.length / 100, type + ": " + differ + " of " + a.length + " values differ");
    }
}
