package dev.continuum.quantize;

import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.model.RopeType;
import dev.continuum.tensor.WeightTensor;

import java.util.HashMap;
import java.util.Map;

/**
 * GPTQ's Hessians H = 2 X^T X / n of every linear layer's inputs X, collected by running the model in float
 * over calibration windows (each its own sequence from position 0, token after token, plain loops: this runs once,
 * not per request), the n tokens of all windows together.
 * Matrices that read the same input share one H: q/k/v (the attention norm's output), gate/up (the FFN norm's
 * output); attn_output gets the attention result, ffn_down the SiLU product, output the final norm's output.
 */
final class CalibrationHessians {
    private CalibrationHessians() {
    }

    /** Tensor name (as in GGUF) -> H (cols x cols, row-major), over every window, each from position 0. */
    static Map<String, double[]> collect(LlamaConfig c, LlamaWeights w, int[][] windows) {
        int longest = 0;
        int n = 0;
        for (int[] window : windows) {
            longest = Math.max(longest, window.length);
            n += window.length;
        }
        if (!c.ropeScaling().isIdentity()) {
            throw new IllegalArgumentException("GPTQ calibration does not compute rope scaling (" + c.ropeScaling()
                    + ") yet; quantize without --gptq");
        }
        if (c.slidingWindow().size() > 0 && c.slidingWindow().size() < longest) {
            throw new IllegalArgumentException("GPTQ calibration does not compute sliding-window attention yet ("
                    + c.slidingWindow() + "); quantize without --gptq");
        }
        if (!c.architecture().gptqComputes()) {
            throw new IllegalArgumentException("GPTQ calibration does not compute " + c.architecture()
                    + " models yet; quantize without --gptq");
        }
        if (c.expertCount() != 0) {
            throw new IllegalArgumentException("GPTQ calibration does not compute mixture-of-experts models yet ("
                    + c.expertCount() + " experts per layer); quantize without --gptq");
        }
        Pass pass = new Pass(c, w, longest);
        for (int[] tokens : windows) {
            for (int t = 0; t < tokens.length; t++) {
                pass.step(tokens[t], t);
            }
        }
        return pass.hessians(n);
    }

    /** The float forward pass and the sums of x x^T of every layer input, over the windows run so far. */
    private static final class Pass {
        private final LlamaConfig c;
        private final LlamaWeights w;
        private final int dim;
        private final int qDim;
        private final int kvDim;
        private final int ffn;
        private final int layers;
        private final double[][] hAttn;
        private final double[][] hOut;
        private final double[][] hFfn;
        private final double[][] hDown;
        private final double[] hOutput;
        private final float[][] keys;
        private final float[][] values;
        private final float[] x;
        private final float[] xb;
        private final float[] q;
        private final float[] att;
        private final float[] hb;
        private final float[] hb2;
        private final float[] scores;
        private final float[] tmp;
        private final double thetaScale;

        Pass(LlamaConfig c, LlamaWeights w, int longest) {
            this.c = c;
            this.w = w;
            dim = c.dim();
            qDim = c.heads() * c.headDim();
            kvDim = c.kvHeads() * c.headDim();
            ffn = c.ffnDim();
            layers = c.layers();
            hAttn = new double[layers][dim * dim];
            hOut = new double[layers][qDim * qDim];
            hFfn = new double[layers][dim * dim];
            hDown = new double[layers][ffn * ffn];
            hOutput = new double[dim * dim];
            keys = new float[layers][longest * kvDim];
            values = new float[layers][longest * kvDim];
            x = new float[dim];
            xb = new float[dim];
            q = new float[qDim];
            att = new float[qDim];
            hb = new float[ffn];
            hb2 = new float[ffn];
            scores = new float[longest];
            tmp = new float[dim];
            thetaScale = Math.pow(c.ropeTheta(), -2.0 / c.ropeDims());
        }

        /** Token {@code token} at position {@code t} of its window (its keys and values kept for the later ones). */
        void step(int token, int t) {
            w.tokenEmbedding().dequantizeRow(token, x, 0);
            for (int l = 0; l < layers; l++) {
                LayerWeights lw = w.layers()[l];
                rmsNorm(xb, x, lw.attnNorm(), c.rmsEps());
                accumulate(hAttn[l], xb, dim);
                matvec(lw.wq(), xb, q, lw.bq());
                matvec(lw.wk(), xb, tmp, lw.bk());
                System.arraycopy(tmp, 0, keys[l], t * kvDim, kvDim);
                matvec(lw.wv(), xb, tmp, lw.bv());
                System.arraycopy(tmp, 0, values[l], t * kvDim, kvDim);
                rope(q, 0, c.heads(), c, t, thetaScale);
                rope(keys[l], t * kvDim, c.kvHeads(), c, t, thetaScale);
                attend(c, q, keys[l], values[l], t, scores, att);
                accumulate(hOut[l], att, qDim);
                matvec(lw.wo(), att, tmp, null);
                for (int i = 0; i < dim; i++) {
                    x[i] += tmp[i];
                }
                rmsNorm(xb, x, lw.ffnNorm(), c.rmsEps());
                accumulate(hFfn[l], xb, dim);
                matvec(lw.gate(), xb, hb, null);
                matvec(lw.up(), xb, hb2, null);
                for (int i = 0; i < ffn; i++) {
                    float g = hb[i];
                    hb[i] = g / (1 + (float) Math.exp(-g)) * hb2[i];
                }
                accumulate(hDown[l], hb, ffn);
                matvec(lw.down(), hb, tmp, null);
                for (int i = 0; i < dim; i++) {
                    x[i] += tmp[i];
                }
            }
            rmsNorm(xb, x, w.outputNorm(), c.rmsEps());
            accumulate(hOutput, xb, dim);
        }

        Map<String, double[]> hessians(int n) {
            Map<String, double[]> result = new HashMap<>();
            for (int l = 0; l < layers; l++) {
                String p = "blk." + l + ".";
                double[] a = finish(hAttn[l], dim, n);
                result.put(p + "attn_q.weight", a);
                result.put(p + "attn_k.weight", a);
                result.put(p + "attn_v.weight", a);
                result.put(p + "attn_output.weight", finish(hOut[l], qDim, n));
                double[] f = finish(hFfn[l], dim, n);
                result.put(p + "ffn_gate.weight", f);
                result.put(p + "ffn_up.weight", f);
                result.put(p + "ffn_down.weight", finish(hDown[l], ffn, n));
            }
            result.put("output.weight", finish(hOutput, dim, n));
            return result;
        }
    }

    /** Upper triangle of H += x x^T (mirrored in {@link #finish}). */
    private static void accumulate(double[] h, float[] x, int n) {
        for (int i = 0; i < n; i++) {
            double xi = x[i];
            if (xi == 0) {
                continue;
            }
            int row = i * n;
            for (int j = i; j < n; j++) {
                h[row + j] += xi * x[j];
            }
        }
    }

    private static double[] finish(double[] h, int n, int tokens) {
        double s = 2.0 / tokens;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double v = h[i * n + j] * s;
                h[i * n + j] = v;
                h[j * n + i] = v;
            }
        }
        return h;
    }

    private static void matvec(WeightTensor m, float[] x, float[] out, float[] bias) {
        for (int r = 0; r < m.rows(); r++) {
            out[r] = m.dot(r, x, 0) + (bias != null ? bias[r] : 0);
        }
    }

    private static void rmsNorm(float[] out, float[] x, float[] weight, float eps) {
        double sum = 0;
        for (float v : x) {
            sum += v * v;
        }
        float scale = (float) (1.0 / Math.sqrt(sum / x.length + eps));
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
    }

    private static void rope(float[] v, int o, int heads, LlamaConfig c, int pos, double thetaScale) {
        int half = c.ropeDims() / 2;
        for (int h = 0; h < heads; h++) {
            int base = o + h * c.headDim();
            double theta = pos;
            for (int i = 0; i < half; i++) {
                float cos = (float) Math.cos(theta);
                float sin = (float) Math.sin(theta);
                int a = c.ropeType() == RopeType.INTERLEAVED ? base + 2 * i : base + i;
                int b = c.ropeType() == RopeType.INTERLEAVED ? a + 1 : base + i + half;
                float x0 = v[a];
                float x1 = v[b];
                v[a] = x0 * cos - x1 * sin;
                v[b] = x0 * sin + x1 * cos;
                theta *= thetaScale;
            }
        }
    }

    /** Causal softmax attention of query {@code q} at position {@code t} over keys 0..t, GQA heads sharing KV. */
    private static void attend(LlamaConfig c, float[] q, float[] keys, float[] values, int t, float[] scores,
                               float[] out) {
        int hd = c.headDim();
        int kvDim = c.kvHeads() * hd;
        int group = c.heads() / c.kvHeads();
        double scale = 1.0 / Math.sqrt(hd);
        for (int h = 0; h < c.heads(); h++) {
            int kvh = h / group;
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s <= t; s++) {
                double d = 0;
                for (int i = 0; i < hd; i++) {
                    d += q[h * hd + i] * keys[s * kvDim + kvh * hd + i];
                }
                scores[s] = (float) (d * scale);
                max = Math.max(max, scores[s]);
            }
            double sum = 0;
            for (int s = 0; s <= t; s++) {
                scores[s] = (float) Math.exp(scores[s] - max);
                sum += scores[s];
            }
            for (int i = 0; i < hd; i++) {
                double a = 0;
                for (int s = 0; s <= t; s++) {
                    a += scores[s] * values[s * kvDim + kvh * hd + i];
                }
                out[h * hd + i] = (float) (a / sum);
            }
        }
    }
}
