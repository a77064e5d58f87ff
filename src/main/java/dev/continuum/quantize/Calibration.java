package dev.continuum.quantize;

import dev.continuum.loader.LoadedModel;
import dev.continuum.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns calibration text into GPTQ Hessians for a loaded model: the text's tokens cut into windows of the model's
 * context (at most {@value #WINDOW} tokens), each window its own sequence from position 0 that begins with BOS when
 * the model adds one, as GPTQ calibrates on many sequences (gpt-fast: wikitext samples) rather than one long one,
 * whose later positions the model may never have been trained on.
 */
public final class Calibration {
    /** The longest calibration window. */
    static final int WINDOW = 512;

    private Calibration() {
    }

    /** The Hessians of {@code model}'s linear layers over at most {@code maxTokens} tokens of {@code text}. */
    public static Map<String, double[]> hessians(LoadedModel model, String text, int maxTokens) {
        return CalibrationHessians.collect(model.config(), model.weights(), windows(model, text, maxTokens));
    }

    /** The windows of token ids, BOS included, {@code maxTokens} ids in all at most. */
    static int[][] windows(LoadedModel model, String text, int maxTokens) {
        Tokenizer tok = model.tokenizer();
        int[] body = tok.encode(text, false);
        boolean bos = tok.addBos() && tok.bosId() >= 0;
        int window = Math.min(WINDOW, model.config().contextLength());
        int perWindow = window - (bos ? 1 : 0);
        if (perWindow < 1 || body.length < 1 || maxTokens < 2) {
            throw new IllegalArgumentException("the calibration text gives " + body.length + " tokens; GPTQ needs more");
        }
        List<int[]> windows = new ArrayList<>();
        int total = 0;
        for (int from = 0; from < body.length && total < maxTokens; from += perWindow) {
            int take = Math.min(Math.min(perWindow, body.length - from), maxTokens - total - (bos ? 1 : 0));
            if (take < 1) {
                break;
            }
            int[] ids = new int[take + (bos ? 1 : 0)];
            if (bos) {
                ids[0] = tok.bosId();
            }
            System.arraycopy(body, from, ids, bos ? 1 : 0, take);
            windows.add(ids);
            total += ids.length;
        }
        if (total < 2) {
            throw new IllegalArgumentException("the calibration text gives " + total + " tokens; GPTQ needs more");
        }
        return windows.toArray(new int[0][]);
    }
}
