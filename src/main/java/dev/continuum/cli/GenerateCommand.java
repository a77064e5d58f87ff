package dev.continuum.cli;

import dev.continuum.engine.GenerationStats;
import dev.continuum.engine.SingleStreamGenerator;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenProposer;
import dev.continuum.speculative.SpeculativeOptions;
import dev.continuum.format.ModelFormatException;
import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.cuda.CudaException;
import dev.continuum.runner.ModelRunner;
import dev.continuum.loader.LoadQuantization;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import dev.continuum.sampling.SamplingParams;
import dev.continuum.tokenizer.StreamingDecoder;
import dev.continuum.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code generate}: one completion on the command line. The text goes to stdout as it is produced; logs and a
 * final {@code stats:} line go to stderr so scripts can read both.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate a completion for a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "embedded:stories260K, dummy:NAME[:TYPE], a .gguf file, or a llama2.c .bin")
    String model;

    @Option(names = "--quantize", description = "Quantize a float model's weights at load: "
            + LoadQuantization.VALUES)
    String quantize;

    @Option(names = "--tokenizer", description = "Tokenizer file for a llama2.c checkpoint")
    Path tokenizer;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "128")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "0 disables top-k")
    int topK;

    @Option(names = "--top-p", defaultValue = "1")
    float topP;

    @Option(names = "--min-p", defaultValue = "0")
    float minP;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--ignore-eos", description = "Keep generating past the end-of-generation token")
    boolean ignoreEos;

    @Option(names = "--backend", defaultValue = "auto",
            description = "auto (the GPU if CUDA answers, else the CPU), cpu or cuda (default auto)")
    String backend;

    @Option(names = "--threads", description = "Compute threads (default: all cores)")
    Integer threads;

    @picocli.CommandLine.Mixin
    SpeculativeFlags speculative = new SpeculativeFlags();

    @Option(names = "--warmup", defaultValue = "true", negatable = true,
            description = "Warm the JIT up before generating, so the stats line reports full speed (default: on)")
    boolean warmup;

    /**
     * Through the engine, which speculates: the proposer opened (a draft model loaded and checked), one untimed
     * generation of the prompt when warming up (the engine's verification path compiles too), then the timed one.
     */
    private int generateSpeculating(LoadedModel loaded, ModelRunner runner, SpeculativeOptions options,
                                    Backend choice, int[] ids, SamplingParams params, PrintStream out,
                                    PrintStream err) throws InterruptedException {
        Speculation spec = options.open(loaded, tokenizer, choice, threads == null ? 0 : threads, warmup ? 32 : 0,
                w -> err.println("WARNING: " + w));
        try (TokenProposer proposer = spec.proposer()) {
            err.println("speculation: " + proposer.describe());
            EngineGeneration generation = new EngineGeneration(runner, loaded.tokenizer(), spec);
            if (warmup) {
                generation.generate(ids, Math.min(maxTokens, 64), params, ignoreEos, text -> { });
            }
            GenerationStats stats = generation.generate(ids, maxTokens, params, ignoreEos, out::print);
            out.println();
            out.flush();
            long drafts = generation.draftTokens();
            err.printf(Locale.ROOT, "stats: prompt_tokens=%d generated_tokens=%d prefill_tok_s=%.2f decode_tok_s=%.2f"
                            + " spec_draft_tokens=%d spec_accepted_tokens=%d spec_acceptance=%.3f%n",
                    stats.promptTokens(), stats.generatedTokens(), stats.prefillTokensPerSecond(),
                    stats.decodeTokensPerSecond(), drafts, generation.acceptedTokens(),
                    drafts == 0 ? 0.0 : generation.acceptedTokens() / (double) drafts);
            return 0;
        }
    }

    @Override
    public Integer call() {
        PrintStream out = new PrintStream(System.out, true,
                StandardCharsets.UTF_8);
        PrintStream err = System.err;
        if (maxTokens < 0) {
            err.println("error: --max-tokens must be >= 0");
            return 2;
        }
        SamplingParams params;
        try {
            params = new SamplingParams(temperature, topK, topP, minP, 0f, 0f, 1f, seed);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        LoadQuantization loadQuantization;
        SpeculativeOptions speculation;
        try {
            loadQuantization = LoadQuantization.parse(quantize);
            speculation = speculative.options();
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        long loadStart = System.nanoTime();
        Backend choice;
        try {
            choice = Backend.parse(backend);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        try (LoadedModel loaded = ModelLoader.load(model, tokenizer, loadQuantization);
             OpenedRunner opened = RunnerFactory.open(loaded, choice, threads == null ? 0 : threads,
                     w -> err.println("WARNING: " + w))) {
            err.printf(Locale.ROOT, "loaded %s in %.2f s%n", loaded.description(), (System.nanoTime() - loadStart) / 1e9);
            if (model.startsWith("dummy:")) {
                err.println("WARNING: " + model + " has RANDOM weights: its output is noise, for tests and benchmarks only");
            }
            Tokenizer tok = loaded.tokenizer();
            int[] body = tok.encode(prompt, false);
            int[] ids = body;
            if (tok.addBos() && tok.bosId() >= 0) {
                ids = new int[body.length + 1];
                ids[0] = tok.bosId();
                System.arraycopy(body, 0, ids, 1, body.length);
            }
            ModelRunner runner = opened.runner();
            err.println("runner: " + runner.describe());
            if (warmup) {
                err.printf(Locale.ROOT, "warm-up: %s%n", SettledWarmup.run(runner));
            }
            if (speculation.enabled()) {
                return generateSpeculating(loaded, runner, speculation, choice, ids, params, out, err);
            }
            StreamingDecoder decoder = new StreamingDecoder(tok);
            SingleStreamGenerator generator = new SingleStreamGenerator(runner, tok.eosId());
            GenerationStats stats = generator.generate(ids, maxTokens, params, ignoreEos,
                    token -> out.print(decoder.push(token)));
            out.print(decoder.flush());
            out.println();
            out.flush();
            err.printf(Locale.ROOT, "stats: prompt_tokens=%d generated_tokens=%d prefill_tok_s=%.2f decode_tok_s=%.2f%n",
                    stats.promptTokens(), stats.generatedTokens(), stats.prefillTokensPerSecond(),
                    stats.decodeTokensPerSecond());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (ModelFormatException | IllegalArgumentException | CudaException
                 | EngineGeneration.GenerationFailedException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
