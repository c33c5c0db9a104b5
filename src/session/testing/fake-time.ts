/** The fake-time helpers live beside the FL core's tests (which may import no other layer); session tests use them too. */
export * from '../../fl/testing/fake-time';
