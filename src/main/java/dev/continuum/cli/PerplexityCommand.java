package dev.continuum.cli;

import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.sampling.Logprobs;
import dev.continuum.eval.KlStats;
import dev.continuum.eval.NllStats;
import dev.continuum.eval.WindowLogits;
import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.LoadQuantization;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code perplexity}: what a model (or a quantization of it) costs in prediction quality, measured as llama.cpp's
 * {@code llama-perplexity} does so the figures compare one to one. The text is tokenized whole (with BOS), cut into
 * non-overlapping windows of {@code --ctx} tokens, each window starts with BOS in place of its first token, and
 * only the second half of each window is scored, so every scored token has at least {@code ctx/2} tokens of
 * context. The running estimate after each window and the final {@code PPL = x +/- err} go to stdout in
 * llama.cpp's format; with {@code --kl-base}, the KL divergence from the base model follows.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Measure a model's perplexity on a text (llama.cpp's method), or its KL divergence from a base model.")
final class PerplexityCommand implements Callable<Integer> {
    /** llama.cpp's default {@code n_ctx} for perplexity. */
    private static final int DEFAULT_CTX = 512;

    @Option(names = "--model", required = true, description = "embedded:stories260K, dummy:NAME[:TYPE], a .gguf file, or a llama2.c .bin")
    String model;

    @Option(names = "--tokenizer", description = "Tokenizer file for a llama2.c checkpoint")
    Path tokenizer;

    @Option(names = "--file", required = true, description = "The text to score (UTF-8)")
    Path file;

    @Option(names = "--ctx", description = "Tokens per window (default: the model's context, at most 512)")
    Integer ctx;

    @Option(names = "--batch", description = "Tokens per forward pass (default: the window)")
    Integer batch;

    @Option(names = "--kl-base", description = "A base model (any model spec) to compare with: KL divergence, top-1 agreement")
    String klBase;

    @Option(names = "--quantize", description = "Quantize the model's float weights at load (the base stays as it is): "
            + LoadQuantization.VALUES)
    String quantize;

    @Option(names = "--threads", description = "Compute threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = System.err;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            err.println("error: no such text file: " + file);
            return 1;
        } catch (IOException e) {
            err.println("error: cannot read " + file + ": " + e);
            return 1;
        }
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1); // as llama.cpp's --file, which drops one final newline
        }
        LoadQuantization loadQuantization;
        try {
            loadQuantization = LoadQuantization.parse(quantize);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int threadCount = threads == null ? 0 : threads;
        try (LoadedModel loaded = ModelLoader.load(model, tokenizer, loadQuantization);
             OpenedRunner opened = RunnerFactory.open(loaded, Backend.CPU, threadCount, w -> err.println("WARNING: " + w))) {
            Tokenizer tok = loaded.tokenizer();
            int window = ctx != null ? ctx : Math.min(DEFAULT_CTX, opened.runner().shape().contextLength());
            int chunk = batch != null ? batch : window;
            int bos = tok.addBos() ? tok.bosId() : -1;
            WindowLogits scored = new WindowLogits(opened.runner(), window, chunk, bos);
            int[] tokens = tokenize(tok, text);
            if (tokens.length < 2 * window) {
                err.println("error: the text has " + tokens.length + " tokens; a window of " + window
                        + " needs at least " + 2 * window + " (2 x --ctx, as llama.cpp)");
                return 1;
            }
            int windows = tokens.length / window;
            err.printf(Locale.ROOT, "perplexity: %s, %d tokens, %d windows of %d, batch %d%n", loaded.description(),
                    tokens.length, windows, window, Math.min(chunk, window));
            if (klBase == null) {
                return perplexity(out, scored, tokens, window, windows);
            }
            try (LoadedModel baseLoaded = ModelLoader.load(klBase, tokenizer);
                 OpenedRunner baseOpened = RunnerFactory.open(baseLoaded, Backend.CPU, threadCount,
                         w -> err.println("WARNING: " + w))) {
                String mismatch = vocabularyMismatch(tok, baseLoaded.tokenizer());
                if (mismatch != null) {
                    err.println("error: --kl-base " + klBase + " has another vocabulary than --model " + model + ": "
                            + mismatch);
                    return 1;
                }
                WindowLogits baseScored = new WindowLogits(baseOpened.runner(), window, chunk, bos);
                return klDivergence(out, scored, baseScored, tokens, window, windows);
            }
        } catch (ModelFormatException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private static int perplexity(PrintStream out, WindowLogits scored, int[] tokens, int window, int windows) {
        NllStats nll = new NllStats();
        int vocab = scored.vocabSize();
        int rows = WindowLogits.scoredRows(window);
        int first = WindowLogits.firstScored(window);
        for (int w = 0; w < windows; w++) {
            int start = w * window;
            float[] logits = scored.run(tokens, start);
            for (int r = 0; r < rows; r++) {
                int o = r * vocab;
                int next = tokens[start + first + r + 1];
                nll.add((double) Logprobs.logSumExp(logits, o, vocab) - logits[o + next]);
            }
            out.printf(Locale.ROOT, "[%d]%.4f,", w + 1, nll.perplexity());
        }
        out.println();
        out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", nll.perplexity(), nll.perplexityError());
        return 0;
    }

    private static int klDivergence(PrintStream out, WindowLogits scored, WindowLogits baseScored, int[] tokens,
                                    int window, int windows) {
        KlStats kl = new KlStats();
        int vocab = scored.vocabSize();
        int rows = WindowLogits.scoredRows(window);
        int first = WindowLogits.firstScored(window);
        for (int w = 0; w < windows; w++) {
            int start = w * window;
            float[] base = baseScored.run(tokens, start);
            float[] logits = scored.run(tokens, start);
            for (int r = 0; r < rows; r++) {
                int o = r * vocab;
                kl.add(logits, o, base, o, vocab, tokens[start + first + r + 1]);
            }
            out.printf(Locale.ROOT, "[%d]%.4f,", w + 1, kl.model().perplexity());
        }
        out.println();
        out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", kl.model().perplexity(),
                kl.model().perplexityError());
        out.printf(Locale.ROOT, "Mean PPL(Q)    : %10.6f ± %10.6f%n", kl.model().perplexity(),
                kl.model().perplexityError());
        out.printf(Locale.ROOT, "Mean PPL(base) : %10.6f ± %10.6f%n", kl.base().perplexity(),
                kl.base().perplexityError());
        out.printf(Locale.ROOT, "Mean    KLD    : %10.6f ± %10.6f%n", kl.meanKld(), kl.meanKldError());
        out.printf(Locale.ROOT, "Same top p     : %6.3f ± %5.3f %%%n", 100 * kl.sameTop(), 100 * kl.sameTopError());
        out.printf(Locale.ROOT, "Scored tokens  : %d%n", kl.count());
        return 0;
    }

    /** The whole text's tokens, with BOS first when the vocabulary adds one (llama.cpp's add_special). */
    private static int[] tokenize(Tokenizer tok, String text) {
        int[] body = tok.encode(text, false);
        if (!tok.addBos() || tok.bosId() < 0) {
            return body;
        }
        int[] ids = new int[body.length + 1];
        ids[0] = tok.bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    /** Why two vocabularies differ (size, special tokens, or the first differing token), or null when they agree. */
    private static String vocabularyMismatch(Tokenizer a, Tokenizer b) {
        if (a.vocabSize() != b.vocabSize()) {
            return a.vocabSize() + " tokens against " + b.vocabSize();
        }
        if (a.bosId() != b.bosId() || a.addBos() != b.addBos()) {
            return "BOS " + a.bosId() + (a.addBos() ? " (added)" : "") + " against " + b.bosId()
                    + (b.addBos() ? " (added)" : "");
        }
        for (int id = 0; id < a.vocabSize(); id++) {
            if (!Arrays.equals(a.tokenBytes(id), b.tokenBytes(id))) {
                return "token " + id + " differs";
            }
        }
        return null;
    }
}
