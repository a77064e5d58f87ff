package dev.continuum.cli;

import picocli.CommandLine.Command;

/** The {@code continuum} command and its subcommands. */
@Command(name = "continuum", mixinStandardHelpOptions = true, version = "continuum 0.1.0",
        description = "An OpenAI-compatible LLM inference server on the JVM.",
        subcommands = {ServeCommand.class, GenerateCommand.class, BenchCommand.class, ExportCommand.class,
                QuantizeCommand.class, PerplexityCommand.class})
final class RootCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}
