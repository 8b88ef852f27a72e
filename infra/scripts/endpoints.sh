# Sourced by test.sh and start.sh: the endpoints of the local infrastructure, as the services and
# suites read them (defaults match infra.sh's default ports).
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}"
export MONGO_WRITE_URI="${MONGO_WRITE_URI:-mongodb://127.0.0.1:${STORE_WRITE_PORT:-27017}/?directConnection=true&retryWrites=false}"
export MONGO_READ_URI="${MONGO_READ_URI:-mongodb://127.0.0.1:${STORE_READ_PORT:-27018}/?directConnection=true&retryWrites=false}"
