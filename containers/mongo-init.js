// Runs once, on the first start of an empty data directory (the official mongo image's
// /docker-entrypoint-initdb.d): the user OpenIM logs in as, in the database it uses, as
// OpenIM's own compose creates it (mongodb.yml: authSource openim_v3).
const database = process.env.MONGO_INITDB_DATABASE;
db.getSiblingDB(database).createUser({
  user: process.env.MONGO_OPENIM_USERNAME,
  pwd: process.env.MONGO_OPENIM_PASSWORD,
  roles: [{ role: "readWrite", db: database }],
});
