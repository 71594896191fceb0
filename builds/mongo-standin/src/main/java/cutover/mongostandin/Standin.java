package cutover.mongostandin;

import java.io.File;
import java.net.InetSocketAddress;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;

/** One running stand-in: a mongo-java-server bound to a port, memory or H2-file backed. */
public final class Standin implements AutoCloseable {

    private final MongoServer server;
    private final String host;
    private final int port;
    private final String backendDescription;
    private boolean closed;

    private Standin(MongoServer server, String host, int port, String backendDescription) {
        this.server = server;
        this.host = host;
        this.port = port;
        this.backendDescription = backendDescription;
    }

    /**
     * Starts a stand-in.
     *
     * @param bindAddress address to listen on, e.g. 127.0.0.1
     * @param port        port to listen on; 0 picks a free one (see {@link #port()})
     * @param h2File      MVStore file for data that survives a restart; null for the memory backend
     */
    public static Standin start(String bindAddress, int port, String h2File) {
        final MongoBackend backend;
        final String description;
        if (h2File == null) {
            backend = new StandinMemoryBackend();
            description = "memory";
        } else {
            File parent = new File(h2File).getAbsoluteFile().getParentFile();
            if (parent != null && !parent.isDirectory() && !parent.mkdirs() && !parent.isDirectory()) {
                throw new IllegalStateException("cannot create directory " + parent);
            }
            backend = new StandinH2Backend(h2File);
            description = "h2:" + h2File;
        }
        MongoServer server = new MongoServer(backend);
        try {
            server.bind(bindAddress, port);
        } catch (Exception e) { // netty rethrows checked exceptions (BindException) undeclared
            try {
                server.shutdownNow();
            } catch (RuntimeException ignored) {
                backend.close();
            }
            throw e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e.toString(), e);
        }
        InetSocketAddress address = server.getLocalAddress();
        return new Standin(server, bindAddress, address.getPort(), description);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String backendDescription() {
        return backendDescription;
    }

    public String connectionString() {
        return "mongodb://" + host + ":" + port;
    }

    /** Closes client connections, stops listening and closes the backend (H2: commits and closes the file). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            server.shutdownNow();
        }
    }
}
