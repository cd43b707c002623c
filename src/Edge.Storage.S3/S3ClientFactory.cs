using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.S3;
using Edge.Plugin.Hosting.Secrets;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3;

/// <summary>
/// Builds the S3 client from <see cref="S3Options"/>, falling back to the standard AWS environment
/// variables, with the settings MinIO and s3rver need: path-style addressing and checksums only where
/// the API requires them (both servers reject or ignore the newer flexible-checksum headers).
/// </summary>
internal static partial class S3ClientFactory
{
    public static (AmazonS3Client Client, bool Anonymous) Create(S3Options options, ILogger logger, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var endpoint = First(options.Endpoint, environment("AWS_ENDPOINT_URL_S3"), environment("AWS_ENDPOINT_URL"), environment("AWS_S3_ENDPOINT"));
        var region = First(options.Region, environment("AWS_REGION"), environment("AWS_DEFAULT_REGION")) ?? "us-east-1";
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = options.Timeout,
            MaxErrorRetry = options.MaxRetries,
            AuthenticationRegion = region,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        if (options.AcceptAnyServerCertificate || !string.IsNullOrEmpty(options.CaCertificateFile))
        {
            if (options.AcceptAnyServerCertificate)
            {
                LogInsecure(logger, endpoint is null ? "AWS" : Redaction.Url(endpoint));
            }

            config.HttpClientFactory = new TlsClientFactory(options);
        }

        var accessKey = First(options.AccessKey, environment("AWS_ACCESS_KEY_ID"));
        var secretKey = First(options.SecretKey, environment("AWS_SECRET_ACCESS_KEY"));
        var token = First(options.SessionToken, environment("AWS_SESSION_TOKEN"));
        AWSCredentials credentials = accessKey is null || secretKey is null
            ? new AnonymousAWSCredentials()
            : token is null ? new BasicAWSCredentials(accessKey, secretKey) : new SessionAWSCredentials(accessKey, secretKey, token);
        if (credentials is AnonymousAWSCredentials)
        {
            LogAnonymous(logger, endpoint is null ? "AWS" : Redaction.Url(endpoint));
        }

        return (new AmazonS3Client(credentials, config), credentials is AnonymousAWSCredentials);
    }

    /// <summary>The handler for every connection to the store, carrying the TLS settings.</summary>
    public static SocketsHttpHandler CreateHandler(S3Options options)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) };
        if (options.AcceptAnyServerCertificate)
        {
            // Opt-in only, logged as a warning at start: a bench MinIO with a throw-away certificate.
#pragma warning disable CA5359
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (!string.IsNullOrEmpty(options.CaCertificateFile))
        {
            var trusted = X509CertificateLoader.LoadCertificateFromFile(options.CaCertificateFile);
            handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { trusted },
            };
        }

        return handler;
    }

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage:S3:AcceptAnyServerCertificate is on: the certificate of {Endpoint} is not checked. Use it only on a test bench")]
    private static partial void LogInsecure(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "No S3 credentials in Storage:S3 or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; requests to {Endpoint} are anonymous")]
    private static partial void LogAnonymous(ILogger logger, string endpoint);

    /// <summary>An HTTP client that trusts a private CA, or (on request) any certificate.</summary>
    private sealed class TlsClientFactory(S3Options options) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan };

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override string GetConfigUniqueString(IClientConfig clientConfig) => $"edge-tls:{options.CaCertificateFile}:{options.AcceptAnyServerCertificate}";
    }
}
