import ServiceLifecycle

/// The pipeline as a swift-service-lifecycle `Service`: `run` starts it, turns the group's
/// graceful shutdown (or the task's cancellation) into `requestStop`, and returns when the
/// shutdown sequence finished.
///
/// It never blocks the cooperative pool: `start` runs on a thread of its own, the pipeline
/// on its threads, and this task is suspended until the outcome is published.
public struct ScoringService: Service {
    public let pipeline: ScoringPipeline

    public init(pipeline: ScoringPipeline) {
        self.pipeline = pipeline
    }

    /// - Throws: `PipelineError` when the run ended in failure (delivery refused, fatal
    ///   client error, shutdown timeout), or when it could not start.
    public func run() async throws {
        try await pipeline.startOffThePool()
        let pipeline = self.pipeline
        let outcome = await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await pipeline.finished()
            } onCancel: {
                pipeline.requestStop(reason: "cancelled")
            }
        } onGracefulShutdown: {
            pipeline.requestStop(reason: "shutdown signal")
        }
        if case .failed(let error) = outcome { throw error }
    }
}
