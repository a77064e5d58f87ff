package dev.continuum.quantize;

import dev.continuum.loader.LoadedModel;
import dev.continuum.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Map;

/** Turns calibration text into GPTQ Hessians for a loaded model: BOS (if the model adds one), then the text's tokens. */
public final class Calibration {
    private Calibration() {
    }

    /** The Hessians of {@code model}'s linear layers over at most {@code maxTokens} tokens of {@code text}. */
    public static Map<String, double[]> hessians(LoadedModel model, String text, int maxTokens) {
        Tokenizer tok = model.tokenizer();
        int[] body = tok.encode(text, false);
        boolean bos = tok.addBos() && tok.bosId() >= 0;
        int[] ids = new int[body.length + (bos ? 1 : 0)];
        if (bos) {
            ids[0] = tok.bosId();
        }
        System.arraycopy(body, 0, ids, bos ? 1 : 0, body.length);
        int n = Math.min(ids.length, Math.min(maxTokens, model.config().contextLength()));
        if (n < 2) {
            throw new IllegalArgumentException("the calibration text gives " + n + " tokens; GPTQ needs more");
        }
        return CalibrationHessians.collect(model.config(), model.weights(), Arrays.copyOf(ids, n));
    }
}
