package dev.continuum.cli;

import dev.continuum.tensor.VectorSupport;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import picocli.CommandLine;

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
        String first = args.length == 0 ? "serve" : args[0];
        if (first.equals("serve") || first.startsWith("-D")) {
            ServeCommand serve = new ServeCommand();
            CommandLine cl = new CommandLine(serve);
            String[] rest = first.equals("serve") ? java.util.Arrays.copyOfRange(args, 1, args.length) : args;
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
