package io.kvcache.cli;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.tokenizer.TokenizationException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;

/** Entry point of the {@code kvcache} command-line tool. */
@Command(name = "kvcache", mixinStandardHelpOptions = true, version = "kvcache 0.1.0",
        description = "Run a local LLM: tokenize, generate, measure perplexity, speed and KV-cache quality.",
        subcommands = {TokenizeCommand.class, GenerateCommand.class, PerplexityCommand.class, BenchCommand.class,
                EvalKvCommand.class, KvReportCommand.class})
public final class KvcacheCli {
    private KvcacheCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit code; errors in the user's input print one line, no stack trace. */
    static int run(String... args) {
        CommandLine cli = new CommandLine(new KvcacheCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ModelFormatException || e instanceof TokenizationException
                    || e instanceof IllegalArgumentException || e instanceof UncheckedIOException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
