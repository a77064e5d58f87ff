package dev.continuum.cli;

import dev.continuum.tensor.VectorSupport;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import picocli.CommandLine;

import java.util.Arrays;
import java.util.List;

/**
 * The single entry point: {@code serve} (the default) boots the Quarkus HTTP server; the other subcommands run
 * plain Java without booting the server, so {@code generate} prints only the generated text on stdout.
 */
@QuarkusMain
public final class ContinuumMain {
    private ContinuumMain() {
    }

    public static void main(String... args) {
        settleVectorSupport();
        String[] rest = serveArguments(args);
        if (rest != null) {
            ServeCommand serve = new ServeCommand();
            CommandLine cl = new CommandLine(serve);
            try {
                cl.parseArgs(rest);
            } catch (CommandLine.ParameterException e) {
                System.err.println(e.getMessage());
                cl.usage(System.err);
                System.exit(2);
            }
            if (cl.isUsageHelpRequested()) {
                cl.usage(System.out);
                return;
            }
            serve.applyAsSystemProperties();
            Quarkus.run();
            return;
        }
        System.exit(new CommandLine(new RootCommand()).execute(args));
    }

    /**
     * The {@code serve} options when {@code args} start the server, else null (another subcommand, or the root's
     * help and version). {@code serve} is the default: no arguments, or options without a subcommand
     * ({@code --model x}, {@code -Dkey=value}), serve too.
     */
    static String[] serveArguments(String... args) {
        if (args.length == 0) {
            return args;
        }
        if (args[0].equals("serve")) {
            return Arrays.copyOfRange(args, 1, args.length);
        }
        boolean rootOption = List.of("-h", "--help", "-V", "--version").contains(args[0]);
        return args[0].startsWith("-") && !rootOption ? args : null;
    }

    /**
     * Makes the Vector API gate's one decision before anything else, so that a bad {@code continuum.vector.bits}
     * stops the process with its message: the server loads its model on a background thread, where the error
     * would only end that thread and leave the server loading forever.
     */
    private static void settleVectorSupport() {
        try {
            VectorSupport.enabled();
        } catch (ExceptionInInitializerError e) {
            System.err.println("error: " + (e.getCause() != null ? e.getCause().getMessage() : e));
            System.exit(2);
        }
    }
}
