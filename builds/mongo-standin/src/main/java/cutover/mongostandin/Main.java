package cutover.mongostandin;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar mongo-standin.jar --port <n> [--bind 127.0.0.1] [--h2 <file>] [--log-level error]}
 *
 * <p>Prints exactly one line to stdout when ready:
 * {@code mongo-standin listening on <bind>:<port> (backend=memory|h2:<file>)}. Logs go to stderr.
 * SIGTERM/SIGINT close the server (and the H2 file) and exit 0. Bad arguments: one line on
 * stderr, exit 2. Failure to start: exit 1.
 */
public final class Main {

    private static final String USAGE =
        "usage: java -jar mongo-standin.jar --port <n> [--bind <address>] [--h2 <file>] [--log-level error|warn|info|debug]";

    private Main() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("mongo-standin: " + e.getMessage() + " (" + USAGE + ")");
            System.exit(2);
            return;
        }
        if (options.help) {
            System.out.println(USAGE);
            return;
        }

        configureLogging(options.logLevel);

        final Standin standin;
        try {
            standin = Standin.start(options.bind, options.port, options.h2File);
        } catch (Exception | LinkageError e) {
            System.err.println("mongo-standin: cannot start on " + options.bind + ":" + options.port + ": " + describe(e));
            System.exit(1);
            return;
        }

        Runtime.getRuntime().addShutdownHook(new Thread(standin::close, "mongo-standin-shutdown"));
        exitZeroOn("TERM");
        exitZeroOn("INT");

        System.out.println("mongo-standin listening on " + standin.host() + ":" + standin.port()
            + " (backend=" + standin.backendDescription() + ")");
        System.out.flush();

        // netty serves on its own threads; keep main alive until the JVM shuts down
        CountDownLatch forever = new CountDownLatch(1);
        while (true) {
            try {
                forever.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** slf4j-simple to stderr; level from --log-level unless -Dorg.slf4j.simpleLogger.defaultLogLevel is given. */
    private static void configureLogging(String level) {
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", level);
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** A signal (TERM, INT) ends the JVM with status 0; the shutdown hook closes the server. */
    private static void exitZeroOn(String signal) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> System.exit(0));
        } catch (RuntimeException | LinkageError e) {
            // platform without this signal: default handling (exit 128+n, shutdown hook still runs)
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : "";
        return (root.getClass().getSimpleName() + ": " + message).replace('\n', ' ').trim();
    }

    static final class Options {
        int port = -1;
        String bind = "127.0.0.1";
        String h2File;
        String logLevel = "error";
        boolean help;

        static Options parse(String[] args) {
            Options options = new Options();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String name = arg;
                String value = null;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 0) {
                    name = arg.substring(0, eq);
                    value = arg.substring(eq + 1);
                }
                switch (name) {
                    case "--help":
                    case "-h":
                        options.help = true;
                        continue;
                    case "--port":
                    case "--bind":
                    case "--h2":
                    case "--log-level":
                        break;
                    default:
                        throw new IllegalArgumentException("unknown argument '" + arg + "'");
                }
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(name + " needs a value");
                    }
                    value = args[++i];
                }
                if (value.isEmpty()) {
                    throw new IllegalArgumentException(name + " needs a non-empty value");
                }
                switch (name) {
                    case "--port":
                        try {
                            options.port = Integer.parseInt(value);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--port must be a number, got '" + value + "'");
                        }
                        if (options.port < 0 || options.port > 65535) {
                            throw new IllegalArgumentException("--port must be 0..65535, got " + value);
                        }
                        break;
                    case "--bind":
                        options.bind = value;
                        break;
                    case "--h2":
                        options.h2File = value;
                        break;
                    case "--log-level":
                        if (!value.matches("(?i)trace|debug|info|warn|error|off")) {
                            throw new IllegalArgumentException("--log-level must be one of error, warn, info, debug, trace, off");
                        }
                        options.logLevel = value.toLowerCase();
                        break;
                    default:
                        throw new IllegalStateException(name);
                }
            }
            if (!options.help && options.port < 0) {
                throw new IllegalArgumentException("--port is required");
            }
            return options;
        }
    }
}
