package cutover.mongostandin;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * The library's H2 (MVStore file) backend plus pipeline-style updates ({@link PipelineUpdates}).
 * MVStore commits by itself about once a second and on close; the shutdown hook closes it.
 */
final class StandinH2Backend extends H2Backend {

    StandinH2Backend(String fileName) {
        super(fileName);
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        Document response = PipelineUpdates.handle(this, oplog, databaseName, command, query);
        return response != null ? response : super.handleCommand(channel, databaseName, command, query);
    }
}
