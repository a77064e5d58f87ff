package dev.continuum.cli;

import dev.continuum.bench.BenchResult;
import dev.continuum.bench.HttpBench;
import dev.continuum.bench.InProcessBench;
import dev.continuum.engine.EngineConfig;
import dev.continuum.engine.KvPoolSizing;
import dev.continuum.engine.Speculation;
import dev.continuum.engine.TokenProposer;
import dev.continuum.backend.Backend;
import dev.continuum.backend.OpenedRunner;
import dev.continuum.backend.RunnerFactory;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.WarmupReport;
import dev.continuum.loader.LoadQuantization;
import dev.continuum.loader.LoadedModel;
import dev.continuum.loader.ModelLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code bench}: end-to-end throughput and latency at several concurrency levels, in-process (the engine alone)
 * or against a running server over HTTP (streaming clients). One JSON line per level on stdout.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill/decode throughput and TTFT/ITL at several concurrency levels.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model spec for in-process runs (and for the tokenizer's vocabulary)")
    String model = "dummy:15m";

    @Option(names = "--quantize", description = "Quantize a float model's weights at load: "
            + LoadQuantization.VALUES)
    String quantize;

    @Option(names = "--tokenizer")
    Path tokenizer;

    @Option(names = "--url", description = "Benchmark a running server at this base URL instead of in-process")
    String url;

    @Option(names = "--prompt-tokens", defaultValue = "128")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128")
    int genTokens;

    @Option(names = "--concurrency", split = ",", defaultValue = "1,4,16")
    List<Integer> concurrency;

    @Option(names = "--vocab", description = "Vocabulary size for random prompts with --url (default: the model's)")
    Integer vocab;

    @Option(names = "--backend", defaultValue = "auto",
            description = "In-process backend: auto (the GPU if CUDA answers, else the CPU), cpu or cuda")
    String backend;

    @Option(names = "--threads", description = "Compute threads in-process (default: all cores)")
    Integer threads;

    @Option(names = "--max-batched-tokens", defaultValue = "256")
    int maxBatchedTokens;

    @Option(names = "--ttft-under-load", description = "Also measure the first-token latency of one prompt while"
            + " this many other sequences decode, against its idle value (in-process only)")
    Integer ttftBackground;

    @Option(names = "--prompt-file", description = "In-process: prompts from this text file, one per line (client i"
            + " gets line i), instead of random token ids; --prompt-tokens is then ignored")
    Path promptFile;

    @picocli.CommandLine.Mixin
    SpeculativeFlags speculative = new SpeculativeFlags();

    @Option(names = "--warmup", defaultValue = "true", negatable = true,
            description = "Warm up first (kernels, model, one short untimed round) so the JIT has compiled everything")
    boolean warmup;

    @Override
    public Integer call() throws Exception {
        if (genTokens < 1) {
            // Every timing the bench reports (TTFT, ITL, decode rate) is of generated tokens.
            System.err.println("error: --gen-tokens must be >= 1, got " + genTokens);
            return 2;
        }
        LoadQuantization loadQuantization;
        dev.continuum.speculative.SpeculativeOptions speculation;
        try {
            loadQuantization = LoadQuantization.parse(quantize);
            speculation = speculative.options();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        int maxConcurrency = concurrency.stream().mapToInt(Integer::intValue).max().orElse(1);
        if (url != null) {
            int v = vocab != null ? vocab : 512;
            int[][] prompts = prompts(maxConcurrency, v);
            HttpBench bench = new HttpBench(url);
            if (warmup) {
                bench.run(1, prompts, Math.min(genTokens, 16));
            }
            for (int c : concurrency) {
                System.out.println(bench.run(c, prompts, genTokens).toJson());
            }
            return 0;
        }
        try (LoadedModel m = ModelLoader.load(model, tokenizer, loadQuantization);
             OpenedRunner opened = RunnerFactory.open(m, Backend.parse(backend), threads == null ? 0 : threads,
                     w -> System.err.println("WARNING: " + w));
             TokenProposer proposer = speculation.open(m, tokenizer, Backend.parse(backend),
                     threads == null ? 0 : threads, warmup ? 32 : 0, w -> System.err.println("WARNING: " + w))
                     .proposer()) {
            System.err.println("loaded " + m.description());
            ModelRunner runner = opened.runner();
            System.err.println("runner: " + runner.describe());
            System.err.println("speculation: " + proposer.describe());
            ModelShape shape = runner.shape();
            int[][] textPrompts = promptFile == null ? null : PromptFile.read(promptFile, m.tokenizer());
            int longest = promptTokens;
            if (textPrompts != null) {
                longest = 0;
                for (int[] p : textPrompts) {
                    longest = Math.max(longest, p.length);
                }
            }
            int maxLen = Math.min(shape.contextLength(), longest + genTokens + 1);
            int blockSize = EngineConfig.DEFAULT_BLOCK_SIZE;
            int sequences = Math.max(maxConcurrency, ttftBackground == null ? 0 : ttftBackground + 1);
            int blocks = KvPoolSizing.blocks(shape, blockSize, maxLen, sequences, Long.MAX_VALUE, OptionalInt.empty());
            System.err.printf("KV cache: %d blocks (%.0f MiB)%n", blocks,
                    blocks * (double) shape.kvBytesPerBlock(blockSize) / (1 << 20));
            EngineConfig config = new EngineConfig(sequences, maxBatchedTokens, sequences * 2, blockSize, blocks,
                    maxLen);
            int[][] prompts = textPrompts != null ? textPrompts : prompts(maxConcurrency, shape.vocabSize());
            InProcessBench bench = new InProcessBench(runner, m.tokenizer(), config, proposer == TokenProposer.NONE
                    ? Speculation.OFF
                    : Speculation.of(proposer, speculation.disableAbove()));
            if (warmup) {
                WarmupReport r = runner.warmUp(32);
                System.err.printf("warm-up: %s%n", r.detail());
                bench.run(Math.min(4, maxConcurrency), prompts, Math.min(genTokens, 16));
                if (bench.lastSpeculationCosts() != null) {
                    System.err.println("speculation by step cost: " + bench.lastSpeculationCosts());
                }
            }
            for (int c : concurrency) {
                BenchResult r = bench.run(c, prompts, genTokens);
                System.out.println(r.toJson());
            }
            if (ttftBackground != null) {
                int[][] background = prompts(ttftBackground + 1, m.config().vocabSize());
                System.out.println(bench.ttftUnderLoad(background[ttftBackground], background, ttftBackground, 3));
            }
        }
        return 0;
    }

    /** Seeded random prompts (ids above the byte/control range), one per client. */
    private int[][] prompts(int count, int vocabSize) {
        SplittableRandom rnd = new SplittableRandom(42);
        int[][] out = new int[count][promptTokens];
        for (int[] p : out) {
            p[0] = 1;
            for (int i = 1; i < p.length; i++) {
                p[i] = 3 + rnd.nextInt(Math.max(1, vocabSize - 3));
            }
        }
        return out;
    }
}
