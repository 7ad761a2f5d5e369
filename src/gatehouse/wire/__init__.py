"""HTTP ⇄ operation calls: SigV4, the AWS protocols and the botocore models they are generic over."""
